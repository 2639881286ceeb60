import { requireArgs, withClient, type CliCommand } from '../command';

export const send: CliCommand = {
  name: 'send',
  usage: '<userId> <text…>',
  summary: 'send a text message; prints its msgId once the server has it (one tick)',
  details: 'Every word after the userId is the message, even words that start with a dash.',
  async run(context) {
    requireArgs(send, context.args, 2);
    const [to, ...words] = context.args as [string, ...string[]];
    await withClient(context, async (client) => {
      await client.connect();
      context.io.print(`Sent ${(await client.send(to, words.join(' '))).msgId}`);
    });
  },
};
