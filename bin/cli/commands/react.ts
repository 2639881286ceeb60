import { parseCommandArgs, requireArgs, withClient, type CliCommand } from '../command';
import { userIdsOf } from '../user-ids';

export const react: CliCommand = {
  name: 'react',
  usage: '<author userId|phone> <msgId> <emoji> | --remove <author> <msgId>',
  summary: 'react to a message with an emoji, replacing your previous reaction; --remove takes it back',
  async run(context) {
    const { values, positionals } = parseCommandArgs(react, context.args, { remove: { type: 'boolean' } });
    requireArgs(react, positionals, values.remove ? 2 : 3);
    const [author, msgId, emoji] = positionals as [string, string, string?];
    await withClient(context, async (client) => {
      const [userId] = await userIdsOf(client, [author]);
      await client.connect();
      await client.react({ author: userId!, msgId }, values.remove ? null : emoji!);
      context.io.print(values.remove ? `Removed your reaction to ${msgId}` : `Reacted ${emoji} to ${msgId}`);
    });
  },
};
