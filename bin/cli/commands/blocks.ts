import { withClient, type CliCommand } from '../command';
import { UsageError } from '../errors';
import { userIdsOf } from '../user-ids';

/** `block` and `unblock`: one user, by userId or phone number. */
function blockCommand(name: 'block' | 'unblock'): CliCommand {
  const command: CliCommand = {
    name,
    usage: '<userId|phone>',
    summary:
      name === 'block'
        ? 'block a user: their 1:1 messages are never delivered and they cannot see your presence or typing (they are not told)'
        : 'unblock a user: their future messages are delivered again (not those sent while blocked)',
    async run(context) {
      if (context.args.length !== 1) throw new UsageError(`parley ${name}: usage: parley ${name} ${command.usage}`);
      await withClient(context, async (client) => {
        const [userId] = await userIdsOf(client, context.args);
        await (name === 'block' ? client.block(userId!) : client.unblock(userId!));
        context.io.print(`${name === 'block' ? 'Blocked' : 'Unblocked'} ${userId}`);
      });
    },
  };
  return command;
}

export const block = blockCommand('block');
export const unblock = blockCommand('unblock');

export const blocks: CliCommand = {
  name: 'blocks',
  usage: '',
  summary: 'the users this account blocks, and since when',
  run: (context) =>
    withClient(context, async (client) => {
      for (const blocked of await client.contacts.blocked()) context.io.print(`${blocked.userId}\tsince ${new Date(blocked.blockedAt).toISOString()}`);
    }),
};
