import { parseCommandArgs, requireArgs, withClient, type CliCommand } from '../command';

export const verify: CliCommand = {
  name: 'verify',
  usage: '<userId> [--mark]',
  summary: "show the safety number with each of a contact's devices; --mark marks them verified",
  details: `Each device has its own identity key, so there is one 60-digit number per device of the contact; the
contact's device shows the same one with \`parley verify <your userId>\`. Compare them (aloud, or in person),
then run this again with --mark. When a verified device's key changes, \`listen\` and \`chat\` warn.`,
  async run(context) {
    const { values, positionals } = parseCommandArgs(verify, context.args, { mark: { type: 'boolean' } });
    requireArgs(verify, positionals, 1);
    const userId = positionals[0]!;
    await withClient(context, async (client) => {
      if (values.mark) context.io.print(`Marked ${await client.markVerified(userId)} device(s) of ${userId} verified`);
      const numbers = await client.safetyNumbers(userId);
      if (!numbers.length) context.io.print(`${userId} has no devices with keys`);
      for (const n of numbers) context.io.print(`device ${n.device.deviceId}: ${n.digits}${n.verified ? ' (verified)' : ''}`);
    });
  },
};
