#!/usr/bin/env -S npx tsx
/**
 * `parley`: a command-line Parley device on the client SDK, its keys and sessions in a folder.
 *   npm run parley -- --store ./alice register +14155550100     (asks for the SMS code)
 *   npm run parley -- --store ./alice send <userId> Hello there
 *   npm run parley -- --store ./alice listen                    (prints messages and ticks until Ctrl-C)
 *   npm run parley -- --store ./alice send-file <userId|group:<groupId>> ./photo.jpg   (received files go to --downloads)
 * Endpoints default to `npm start`'s (--http http://127.0.0.1:3000, --ws ws://127.0.0.1:3001/local).
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { FileStore, ParleyClient, type ParleyClientOptions } from '../client';
import { receivedFilePath } from '../client/media/received-files';
import type { TransferProgress } from '../client/media/media-transfers';

const usage = `parley --store DIR [--http URL] [--ws URL] [--downloads DIR] <command>
  register <phoneNumber> [deviceName]   register an account; asks for the code from the SMS
  link-token                            print a token that links a new device to this account
  link <token> <deviceName>             link this device to an account
  whoami                                this device's userId and deviceId
  devices                               the account's devices
  send <userId> <text…>                 send a message
  send-file <userId|group:<id>> <path> [caption…]   send a file (one upload, also to a group)
  listen                                print messages and ticks until Ctrl-C; received files
                                        are saved to --downloads (default: DIR/downloads)`;

export interface CliIo {
  print(line: string): void;
  /** Asks the person at the terminal. */
  ask(question: string): Promise<string>;
  /** Shows a transfer's progress in place (a bar on a terminal). @default on stderr when it is a terminal */
  progress?(line: string): void;
  /** Resolves when `listen` should stop. @default SIGINT */
  stopListening?: Promise<void>;
}

function terminal(): CliIo {
  return {
    print: (line) => console.log(line),
    progress: (line) => process.stderr.isTTY && process.stderr.write(`\r${line}`),
    ask: async (question) => {
      const prompt = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return (await prompt.question(question)).trim();
      } finally {
        prompt.close();
      }
    },
  };
}

/**
 * Options come before the command; everything from the command on is its own, even words that start with
 * `-`: a link token is base64url and may, and so may a message.
 */
/** `[#####-----] 52% uploading 2.6/5.0 MB`, every whole percent. */
function progressBar(io: CliIo): (progress: TransferProgress) => void {
  let shown = '';
  return ({ phase, bytes, totalBytes }) => {
    const percent = Math.floor((bytes / totalBytes) * 100);
    const line = `[${'#'.repeat(Math.floor(percent / 5)).padEnd(20, '-')}] ${String(percent).padStart(3)}% ${phase.padEnd(10)} ${(bytes / 1e6).toFixed(1)}/${(totalBytes / 1e6).toFixed(1)} MB`;
    if (line === shown) return;
    shown = line;
    io.progress?.(line);
  };
}

function splitAtCommand(argv: readonly string[]): { options: string[]; command: string[] } {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('--')) i += argv[i]!.includes('=') ? 1 : 2;
  return { options: argv.slice(0, i), command: argv.slice(i) };
}

export async function runCli(argv: readonly string[], io: CliIo = terminal()): Promise<void> {
  const split = splitAtCommand(argv);
  const { values } = parseArgs({
    args: split.options,
    options: { store: { type: 'string' }, downloads: { type: 'string' }, http: { type: 'string', default: 'http://127.0.0.1:3000' }, ws: { type: 'string', default: 'ws://127.0.0.1:3001/local' } },
  });
  const [command, ...rest] = split.command;
  if (!values.store || !command) throw new Error(usage);
  const options: ParleyClientOptions = { httpUrl: values.http!, webSocketUrl: values.ws!, store: new FileStore(values.store) };

  switch (command) {
    case 'register': {
      const [phoneNumber, deviceName] = rest;
      if (!phoneNumber) throw new Error(usage);
      await ParleyClient.requestVerificationCode(options, phoneNumber);
      const code = await io.ask(`The code texted to ${phoneNumber}: `);
      const client = await ParleyClient.register({ ...options, phoneNumber, code, ...(deviceName ? { deviceName } : {}) });
      return io.print(`Registered: userId ${client.userId}, device ${client.deviceId}`);
    }
    case 'link': {
      const [linkToken, deviceName] = rest;
      if (!linkToken || !deviceName) throw new Error(usage);
      const client = await ParleyClient.link({ ...options, linkToken, deviceName });
      return io.print(`Linked: userId ${client.userId}, device ${client.deviceId}`);
    }
  }

  const client = await ParleyClient.open(options);
  try {
    switch (command) {
      case 'whoami':
        return io.print(`userId ${client.userId}, device ${client.deviceId}`);
      case 'link-token':
        return io.print((await client.createLinkToken()).linkToken);
      case 'devices':
        for (const device of await client.listDevices()) io.print(`${device.deviceId}\t${device.name}${device.primary ? ' (primary)' : ''}`);
        return;
      case 'send': {
        const [to, ...words] = rest;
        if (!to || !words.length) throw new Error(usage);
        await client.connect();
        const sent = await client.send(to, words.join(' '));
        return io.print(`Sent ${sent.msgId}`);
      }
      case 'send-file': {
        const [to, file, ...caption] = rest;
        if (!to || !file) throw new Error(usage);
        await client.connect();
        const target = to.startsWith('group:') ? { groupId: to.slice('group:'.length) } : to;
        const sent = await client.sendFile(target, file, { onProgress: progressBar(io), ...(caption.length ? { caption: caption.join(' ') } : {}) });
        io.progress?.('\n');
        return io.print(`Sent ${sent.msgId}: ${sent.attachment.fileName} (${sent.attachment.size} bytes)`);
      }
      case 'listen': {
        const downloads = values.downloads ?? path.join(values.store, 'downloads');
        client.on('message', async (m) => {
          io.print(`${new Date(m.serverTs).toISOString()} ${m.outgoing ? 'you' : m.from.userId} (device ${m.from.deviceId}): ${m.text ?? (m.attachment ? '' : `${m.data?.length} bytes`)}`);
          if (!m.attachment) return;
          try {
            const saved = await client.downloadAttachment(m.attachment, await receivedFilePath(downloads, m.attachment));
            io.print(`  saved ${m.attachment.kind} ${saved} (${m.attachment.size} bytes)`);
          } catch (error) {
            io.print(`  the attachment ${m.attachment.fileName ?? m.attachment.mediaId} could not be downloaded: ${(error as Error).message}`);
          }
        });
        client.on('receipt', (r) => {
          if (r.status === 'sent') return;
          const upTo = r.upToServerTs !== undefined ? ` (and every earlier message up to ${new Date(r.upToServerTs).toISOString()})` : '';
          io.print(`${r.msgIds.join(', ')} ${r.status}${upTo} by ${r.by.userId} (device ${r.by.deviceId})`);
        });
        client.on('undecryptable', (u) => io.print(`A message from ${u.from.userId} could not be read (${u.reason})`));
        client.on('identityChanged', (c) => io.print(`The security code of ${c.device.userId} (device ${c.device.deviceId}) changed`));
        client.on('connection', (s) => {
          if (s.state === 'offline') io.print(`Offline; trying again in ${Math.round(s.retryInMs! / 1000)} s`);
        });
        await client.connect();
        io.print('Listening; Ctrl-C stops.');
        await (io.stopListening ?? new Promise<void>((resolve) => process.once('SIGINT', () => resolve())));
        return;
      }
      default:
        throw new Error(usage);
    }
  } finally {
    client.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
