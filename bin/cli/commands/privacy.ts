import type { PrivacySettings } from '../../../client/contacts';
import { withClient, type CliCommand } from '../command';
import { UsageError } from '../errors';

export const privacy: CliCommand = {
  name: 'privacy',
  usage: '[lastSeen=everyone|contacts|nobody] [online=everyone|contacts|nobody] [readReceipts=on|off]',
  summary: 'show the privacy settings, or change those named (they apply to all of the account\'s devices)',
  async run(context) {
    const change = privacyChange(context.args);
    await withClient(context, async (client) => {
      const settings = context.args.length ? await client.setPrivacy(change) : await client.privacy();
      context.io.print(`lastSeen=${settings.lastSeen} online=${settings.online} readReceipts=${settings.readReceipts ? 'on' : 'off'}`);
    });
  },
};

/** `lastSeen=contacts online=nobody readReceipts=off` → the settings to change. */
function privacyChange(words: readonly string[]): Partial<PrivacySettings> {
  const change: { -readonly [K in keyof PrivacySettings]?: PrivacySettings[K] } = {};
  for (const word of words) {
    const [name, value] = word.split('=');
    if ((name === 'lastSeen' || name === 'online') && (value === 'everyone' || value === 'contacts' || value === 'nobody')) change[name] = value;
    else if (name === 'readReceipts' && (value === 'on' || value === 'off')) change.readReceipts = value === 'on';
    else throw new UsageError(`parley privacy: ${word} is not a setting; usage: parley privacy ${privacy.usage}`);
  }
  return change;
}
