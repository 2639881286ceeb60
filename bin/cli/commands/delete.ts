import { requireArgs, withClient, type CliCommand } from '../command';

export const deleteForEveryone: CliCommand = {
  name: 'delete',
  usage: '<msgId>',
  summary: 'delete your own message for everyone (1:1 or group), within 48 hours; prints how many undelivered copies the server dropped',
  details:
    'Devices that have it remove it; devices that had not downloaded it never will. A group message is stored once for every member ' +
    'device, in the group’s timeline: the count is 1 when the server withdrew it there, 0 when it was withdrawn before or its fan-out ' +
    'had not stored it yet (the server withdraws it when it does).',
  async run(context) {
    requireArgs(deleteForEveryone, context.args, 1);
    const [msgId] = context.args as [string];
    await withClient(context, async (client) => {
      await client.connect();
      const { dropped } = await client.deleteForEveryone({ author: client.userId, msgId });
      context.io.print(`Deleted ${msgId} for everyone (${dropped} undelivered ${dropped === 1 ? 'copy' : 'copies'} dropped)`);
    });
  },
};
