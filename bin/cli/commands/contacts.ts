import { withClient, type CliCommand } from '../command';
import { UsageError } from '../errors';
import { userIdsOf } from '../user-ids';

export const contacts: CliCommand = {
  name: 'contacts',
  usage: '[add|remove <userId|phone…>]',
  summary: 'list, add to or remove from the contact list kept on the server (privacy "contacts" reads it)',
  async run(context) {
    const [change, ...words] = context.args;
    if (change !== undefined && !((change === 'add' || change === 'remove') && words.length)) {
      throw new UsageError(`parley contacts: usage: parley contacts ${contacts.usage}`);
    }
    await withClient(context, async (client) => {
      let list = await client.contacts.list();
      if (change) {
        const userIds = await userIdsOf(client, words);
        list = await client.contacts.set(change === 'add' ? [...new Set([...list, ...userIds])] : list.filter((id) => !userIds.includes(id)));
      }
      for (const userId of list) context.io.print(userId);
    });
  },
};
