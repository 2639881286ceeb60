import { ParleyClient } from '../../../client';
import { requireArgs, type CliCommand } from '../command';

export const link: CliCommand = {
  name: 'link',
  usage: '<token> <deviceName>',
  summary: 'link this device to an account, with a token from one of its devices (`parley link-token` there)',
  details: 'The account\'s device that showed the token provisions this one (chat list keys) once both are connected.',
  needsDevice: false,
  async run({ args, io, client }) {
    requireArgs(link, args, 2);
    const [linkToken, deviceName] = args as [string, string];
    const device = await ParleyClient.link({ ...client, linkToken, deviceName });
    device.close();
    io.print(`Linked: userId ${device.userId}, device ${device.deviceId}`);
  },
};
