import { withClient, type CliCommand } from '../command';

export const linkToken: CliCommand = {
  name: 'link-token',
  usage: '',
  summary: 'print a one-use token (5 minutes) that links a new device to this account',
  run: (context) => withClient(context, async (client) => context.io.print((await client.createLinkToken()).linkToken)),
};
