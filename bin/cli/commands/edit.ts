import { requireArgs, withClient, type CliCommand } from '../command';

export const edit: CliCommand = {
  name: 'edit',
  usage: '<msgId> <text…>',
  summary: 'replace the text of your own message, within 15 minutes of sending it',
  details: 'Refused (UNKNOWN_MESSAGE, EDIT_WINDOW_PASSED) without sending anything when the message is not yours or is older.',
  async run(context) {
    requireArgs(edit, context.args, 2);
    const [msgId, ...words] = context.args as [string, ...string[]];
    await withClient(context, async (client) => {
      await client.connect();
      await client.edit({ author: client.userId, msgId }, words.join(' '));
      context.io.print(`Edited ${msgId}`);
    });
  },
};
