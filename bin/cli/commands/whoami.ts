import { withClient, type CliCommand } from '../command';

export const whoami: CliCommand = {
  name: 'whoami',
  usage: '',
  summary: "this device's userId and deviceId",
  run: (context) => withClient(context, async (client) => context.io.print(`userId ${client.userId}, device ${client.deviceId}`)),
};
