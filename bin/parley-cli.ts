#!/usr/bin/env -S npx tsx
/**
 * `parley`: a command-line Parley device on the client SDK, its keys and sessions in a folder.
 *   npm run parley -- --store ./alice register +14155550100     (asks for the SMS code)
 *   npm run parley -- --store ./alice send <userId> Hello there
 *   npm run parley -- --store ./alice send +14155550101 Hello   (a phone number is looked up first)
 *   npm run parley -- --store ./alice listen [userId|phone…]    (prints messages, ticks, typing and those users' presence until Ctrl-C)
 *   npm run parley -- --store ./alice send-file <userId|group:<groupId>> ./photo.jpg   (received files go to --downloads)
 * Endpoints default to `npm start`'s (--http http://127.0.0.1:3000, --ws ws://127.0.0.1:3001/local).
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { FileStore, ParleyClient, type ParleyClientOptions } from '../client';
import { receivedFilePath } from '../client/media/received-files';
import type { TransferProgress } from '../client/media/media-transfers';
import type { PrivacySettings } from '../client/contacts';

const usage = `parley --store DIR [--http URL] [--ws URL] [--downloads DIR] <command>
  register <phoneNumber> [deviceName]   register an account; asks for the code from the SMS
  link-token                            print a token that links a new device to this account
  link <token> <deviceName>             link this device to an account
  whoami                                this device's userId and deviceId
  devices                               the account's devices
  send <userId|phone> <text…>           send a message (a phone number is looked up first)
  send-file <userId|group:<id>> <path> [caption…]   send a file (one upload, also to a group)
  listen [userId|phone…]                print messages, ticks and typing until Ctrl-C, and the
                                        presence of the users named; received files are saved
                                        to --downloads (default: DIR/downloads)
  lookup <phone…>                       which phone numbers have accounts (1,000 a day per device)
  contacts [add|remove <userId|phone…>] list, add to or remove from the contacts kept on the server
  privacy [lastSeen=everyone|contacts|nobody] [online=…] [readReceipts=on|off]
                                        show or change the privacy settings
  block <userId|phone>, unblock <userId|phone>, blocks
                                        block or unblock a user; list who is blocked`;

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

const isPhoneNumber = (word: string) => word.startsWith('+');

/** The userIds of these userIds or phone numbers; a number without an account is an error naming it. */
async function userIdsOf(client: ParleyClient, words: readonly string[]): Promise<string[]> {
  const numbers = words.filter(isPhoneNumber);
  const found = new Map((numbers.length ? await client.lookup(numbers) : []).map(({ phoneNumber, userId }) => [phoneNumber, userId]));
  return words.map((word) => {
    if (!isPhoneNumber(word)) return word;
    const userId = found.get(word);
    if (!userId) throw new Error(`${word} is not on Parley`);
    return userId;
  });
}

/** `lastSeen=contacts online=nobody readReceipts=off` → the settings to change. */
function privacyChange(words: readonly string[]): Partial<PrivacySettings> {
  const change: Record<string, unknown> = {};
  for (const word of words) {
    const [name, value] = word.split('=');
    if ((name === 'lastSeen' || name === 'online') && (value === 'everyone' || value === 'contacts' || value === 'nobody')) change[name] = value;
    else if (name === 'readReceipts' && (value === 'on' || value === 'off')) change.readReceipts = value === 'on';
    else throw new Error(usage);
  }
  return change as Partial<PrivacySettings>;
}

const timeOf = (ms: number) => new Date(ms).toISOString();

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
        const [userId] = await userIdsOf(client, [to]);
        await client.connect();
        const sent = await client.send(userId!, words.join(' '));
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
        client.on('presence', (p) => io.print(`${p.userId} is ${p.online ? 'online' : p.lastSeen !== undefined ? `offline, last seen ${timeOf(p.lastSeen)}` : 'offline'}`));
        client.on('typing', (t) => io.print(`${t.from.userId} ${t.state === 'composing' ? 'is typing…' : 'stopped typing'} in ${t.conversationId}`));
        const watched = await userIdsOf(client, rest);
        await client.connect();
        if (watched.length) await client.subscribePresence(watched);
        io.print('Listening; Ctrl-C stops.');
        await (io.stopListening ?? new Promise<void>((resolve) => process.once('SIGINT', () => resolve())));
        return;
      }
      case 'lookup': {
        if (!rest.length) throw new Error(usage);
        const found = new Map((await client.lookup(rest)).map(({ phoneNumber, userId }) => [phoneNumber, userId]));
        for (const phoneNumber of rest) io.print(`${phoneNumber}\t${found.get(phoneNumber) ?? 'not on Parley'}`);
        return;
      }
      case 'contacts': {
        const [change, ...words] = rest;
        let contacts = await client.contacts.list();
        if (change === 'add' || change === 'remove') {
          const userIds = await userIdsOf(client, words);
          contacts = await client.contacts.set(change === 'add' ? [...new Set([...contacts, ...userIds])] : contacts.filter((id) => !userIds.includes(id)));
        } else if (change !== undefined) throw new Error(usage);
        for (const userId of contacts) io.print(userId);
        return;
      }
      case 'privacy': {
        const settings = rest.length ? await client.setPrivacy(privacyChange(rest)) : await client.privacy();
        return io.print(`lastSeen=${settings.lastSeen} online=${settings.online} readReceipts=${settings.readReceipts ? 'on' : 'off'}`);
      }
      case 'block':
      case 'unblock': {
        if (rest.length !== 1) throw new Error(usage);
        const [userId] = await userIdsOf(client, rest);
        await (command === 'block' ? client.block(userId!) : client.unblock(userId!));
        return io.print(`${command === 'block' ? 'Blocked' : 'Unblocked'} ${userId}`);
      }
      case 'blocks':
        for (const block of await client.contacts.blocked()) io.print(`${block.userId}\tsince ${timeOf(block.blockedAt)}`);
        return;
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
