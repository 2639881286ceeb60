import { requireArgs, withClient, type CliCommand } from '../command';
import { userIdsOf } from '../user-ids';

export const send: CliCommand = {
  name: 'send',
  usage: '<userId|phone> <text…>',
  summary: 'send a text message; prints its msgId once the server has it (one tick)',
  details: 'A phone number (+…) is looked up first. Every word after the recipient is the message, even words that start with a dash.',
  async run(context) {
    requireArgs(send, context.args, 2);
    const [to, ...words] = context.args as [string, ...string[]];
    await withClient(context, async (client) => {
      const [userId] = await userIdsOf(client, [to]);
      await client.connect();
      context.io.print(`Sent ${(await client.send(userId!, words.join(' '))).msgId}`);
    });
  },
};
