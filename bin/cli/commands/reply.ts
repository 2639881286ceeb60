import { requireArgs, withClient, type CliCommand } from '../command';
import { userIdsOf } from '../user-ids';

export const reply: CliCommand = {
  name: 'reply',
  usage: '<author userId|phone> <msgId> <text…>',
  summary: 'reply to a message this device has, quoting its start; prints the reply’s msgId',
  details: 'The author is who sent the quoted message (you: your own userId); the msgId is the one `parley listen` printed.',
  async run(context) {
    requireArgs(reply, context.args, 3);
    const [author, msgId, ...words] = context.args as [string, string, ...string[]];
    await withClient(context, async (client) => {
      const [userId] = await userIdsOf(client, [author]);
      await client.connect();
      context.io.print(`Sent ${(await client.reply({ author: userId!, msgId }, words.join(' '))).msgId}`);
    });
  },
};
