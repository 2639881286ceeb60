import { receivedFilePath } from '../../../client/media/received-files';
import { withClient, type CliCommand } from '../command';
import { CliError } from '../errors';

export const listen: CliCommand = {
  name: 'listen',
  usage: '',
  summary: 'print messages, ticks and identity changes as they come, until Ctrl-C',
  details: `Received files are saved under --downloads (default: <store>/downloads), never over another file.
Exits 1 when the server closes the connection for good (another process connected as this device, or the
device was removed).`,
  run: (context) =>
    withClient(context, async (client) => {
      const { io } = context;
      client.on('message', async (m) => {
        io.print(`${new Date(m.serverTs).toISOString()} ${m.outgoing ? 'you' : m.from.userId} (device ${m.from.deviceId}): ${m.text ?? (m.attachment ? '' : `${m.data?.length} bytes`)}`);
        if (!m.attachment) return;
        try {
          const saved = await client.downloadAttachment(m.attachment, await receivedFilePath(context.downloads, m.attachment));
          io.print(`  saved ${m.attachment.kind} ${saved} (${m.attachment.size} bytes)`);
        } catch (error) {
          io.print(`  the attachment ${m.attachment.fileName ?? m.attachment.mediaId} could not be downloaded: ${(error as Error).message}`);
        }
      });
      client.on('receipt', (r) => {
        if (r.status !== 'sent') io.print(`${r.msgIds.join(', ')} ${r.status} by ${r.by.userId} (device ${r.by.deviceId})`);
      });
      client.on('undecryptable', (u) => io.print(`A message from ${u.from.userId} could not be read (${u.reason})`));
      client.on('identityChanged', (c) =>
        io.print(`${c.wasVerified ? 'WARNING: the verified ' : 'The '}security code of ${c.device.userId} (device ${c.device.deviceId}) changed${c.wasVerified ? ': verify it again (parley verify)' : ''}`),
      );
      // A connection closed for good would otherwise leave nothing to wait on, and the process would end silently with 0.
      const closedForGood = new Promise<never>((_, reject) =>
        client.on('connection', (s) => {
          if (s.state === 'offline') io.print(`Offline; trying again in ${Math.round(s.retryInMs! / 1000)} s`);
          if (s.state === 'closed' && s.reason) reject(new CliError(`the server closed this device's connection: ${s.reason}`));
        }),
      );
      closedForGood.catch(() => undefined);
      await client.connect();
      io.print('Listening; Ctrl-C stops.');
      await Promise.race([io.stopListening ?? new Promise<void>((resolve) => process.once('SIGINT', () => resolve())), closedForGood]);
    }),
};
