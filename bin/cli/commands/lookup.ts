import { requireArgs, withClient, type CliCommand } from '../command';

export const lookup: CliCommand = {
  name: 'lookup',
  usage: '<phone…>',
  summary: 'which phone numbers (E.164, e.g. +14155550100) have Parley accounts, with their userIds',
  details: 'Each device may look up 1,000 numbers a day; past that the server answers RATE_LIMITED.',
  async run(context) {
    requireArgs(lookup, context.args, 1);
    await withClient(context, async (client) => {
      const found = new Map((await client.lookup([...context.args])).map(({ phoneNumber, userId }) => [phoneNumber, userId]));
      for (const phoneNumber of context.args) context.io.print(`${phoneNumber}\t${found.get(phoneNumber) ?? 'not on Parley'}`);
    });
  },
};
