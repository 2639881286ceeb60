import { requireArgs, withClient, type CliCommand } from '../command';
import { UsageError } from '../errors';
import { DISAPPEARING_NAMES } from '../message-line';
import { userIdsOf } from '../user-ids';

export const disappearing: CliCommand = {
  name: 'disappearing',
  usage: '<userId|phone> off|24h|7d|90d',
  summary: 'set a chat’s disappearing-message timer: messages go that long after they are read',
  async run(context) {
    requireArgs(disappearing, context.args, 2);
    const [peer, name] = context.args as [string, string];
    if (!(name in DISAPPEARING_NAMES)) throw new UsageError(`parley disappearing: the timer is one of ${Object.keys(DISAPPEARING_NAMES).join(', ')}`);
    await withClient(context, async (client) => {
      const [userId] = await userIdsOf(client, [peer]);
      await client.connect();
      await client.setDisappearing(userId!, DISAPPEARING_NAMES[name as keyof typeof DISAPPEARING_NAMES]);
      context.io.print(`Disappearing messages ${name === 'off' ? 'off' : `set to ${name}`}`);
    });
  },
};
