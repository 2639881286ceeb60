import { requireArgs, withClient, type CliCommand } from '../command';
import { progressBar } from '../progress-bar';

export const sendFile: CliCommand = {
  name: 'send-file',
  usage: '<userId|group:<groupId>> <path> [caption…]',
  summary: 'send a file, encrypted on this device and uploaded once (also to a group), with a progress bar',
  async run(context) {
    requireArgs(sendFile, context.args, 2);
    const [to, file, ...caption] = context.args as [string, string, ...string[]];
    const { io } = context;
    await withClient(context, async (client) => {
      await client.connect();
      const target = to.startsWith('group:') ? { groupId: to.slice('group:'.length) } : to;
      const sent = await client.sendFile(target, file, { onProgress: progressBar((line) => io.progress?.(line)), ...(caption.length ? { caption: caption.join(' ') } : {}) });
      io.progress?.('\n');
      io.print(`Sent ${sent.msgId}: ${sent.attachment.fileName} (${sent.attachment.size} bytes)`);
    });
  },
};
