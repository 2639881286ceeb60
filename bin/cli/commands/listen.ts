import { receivedFilePath } from '../../../client/media/received-files';
import { withClient, type CliCommand } from '../command';
import { messageLine } from '../message-line';
import { CliError } from '../errors';
import { userIdsOf } from '../user-ids';

export const listen: CliCommand = {
  name: 'listen',
  usage: '[userId|phone…]',
  summary: 'print messages, ticks, typing and identity changes as they come, and the presence of the users named, until Ctrl-C',
  details: `Received files are saved under --downloads (default: <store>/downloads), never over another file.
Exits 1 when the server closes the connection for good (another process connected as this device, or the
device was removed).`,
  run: (context) =>
    withClient(context, async (client) => {
      const { io } = context;
      client.on('message', async (m) => {
        io.print(messageLine(m));
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
      client.on('expired', (e) => io.print(`Disappeared in ${e.conversationId}: ${e.messages.map((m) => m.msgId).join(', ')}`));
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
      client.on('presence', (p) => io.print(`${p.userId} is ${p.online ? 'online' : p.lastSeen !== undefined ? `offline, last seen ${new Date(p.lastSeen).toISOString()}` : 'offline'}`));
      client.on('typing', (t) => io.print(`${t.from.userId} ${t.state === 'composing' ? 'is typing…' : 'stopped typing'} in ${t.conversationId}`));
      const watched = await userIdsOf(client, context.args);
      await client.connect();
      if (watched.length) await client.subscribePresence(watched);
      io.print('Listening; Ctrl-C stops.');
      await Promise.race([io.stopListening ?? new Promise<void>((resolve) => process.once('SIGINT', () => resolve())), closedForGood]);
    }),
};
