import { withClient, type CliCommand } from '../command';

export const devices: CliCommand = {
  name: 'devices',
  usage: '',
  summary: "the account's devices: id, name, which is primary",
  run: (context) =>
    withClient(context, async (client) => {
      for (const device of await client.listDevices()) context.io.print(`${device.deviceId}\t${device.name}${device.primary ? ' (primary)' : ''}`);
    }),
};
