/** The `parley` command-line client against the local stack: register, link, send, send-file, listen, verify, lookup, contacts, privacy, block, and every failure path. */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main, runCli, type CliIo } from '../../bin/parley-cli';
import { ParleyClient } from '../../client/parley-client';
import { FileStore } from '../../client/store/file-store';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';

let parley: ParleyLocal;
let folder: string;

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  folder = await mkdtemp(path.join(tmpdir(), 'parley-cli-'));
});
afterAll(async () => {
  await parley?.stop();
  await rm(folder, { recursive: true, force: true });
});

/**
 * Runs one command as a person at a terminal would, who reads the SMS code off the phone; `listen` stops
 * at the first line that matches `until` (or after 5 s).
 */
async function parleyCommand(store: string, args: string[], until?: (line: string) => boolean): Promise<string[]> {
  const smsCode = async () => {
    const phoneNumber = args[1]!;
    const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber, 5000);
    return /(\d{6})/.exec(sms.message)![1]!;
  };
  const { io, lines } = terminalIo(smsCode, until);
  await runCli(['--store', path.join(folder, store), '--http', parley.httpUrl, '--ws', parley.webSocketUrl, ...args], io);
  return lines;
}

/** A terminal for one command: what it printed; `listen` stops at the first line that matches `until` (or after 30 s). */
function terminalIo(ask: () => Promise<string>, until?: (line: string) => boolean): { io: CliIo; lines: string[] } {
  const lines: string[] = [];
  let stop!: () => void;
  const stopListening = new Promise<void>((resolve) => {
    stop = resolve;
    setTimeout(resolve, 30_000).unref(); // only when `until` never matches: a busy machine may take long
  });
  const io: CliIo = {
    print: (line) => {
      lines.push(line);
      if (until?.(line)) stop();
    },
    ask,
    stopListening,
  };
  return { io, lines };
}

it('registers, links, sends and listens', async () => {
  const [registered] = await parleyCommand('alice', ['register', '+14155551301']);
  expect(registered).toMatch(/^Registered: userId [0-9a-f-]{36}, device 1$/);
  await parleyCommand('bob', ['register', '+14155551302', 'Bob phone']);
  const [bobWho] = await parleyCommand('bob', ['whoami']);
  const bobId = /userId ([0-9a-f-]{36})/.exec(bobWho!)![1]!;

  const [token] = await parleyCommand('bob', ['link-token']);
  expect(await parleyCommand('bob-laptop', ['link', token!, 'Laptop'])).toEqual([`Linked: userId ${bobId}, device 2`]);
  expect(await parleyCommand('bob', ['devices'])).toEqual(['1\tBob phone (primary)', '2\tLaptop']);

  const heard = (line: string) => line.endsWith('(device 1): Hello from the terminal');
  const listening = parleyCommand('bob-laptop', ['listen'], heard);
  const [sent] = await parleyCommand('alice', ['send', bobId, 'Hello', 'from', 'the', 'terminal']);
  expect(sent).toMatch(/^Sent [0-9a-f-]{36}$/);
  expect((await listening).filter(heard)).toHaveLength(1);
});

it('takes words after the command as they are, even when they start with a dash (a link token may)', async () => {
  // A token that starts with '-' once made the argument parser stop with "Unknown option".
  await expect(parleyCommand('carol-laptop', ['link', '-u1bDMsFQhZc8X5aW2nLx0mQx7kKq9pYJrT3vEo4sGd', 'Laptop'])).rejects.toMatchObject({
    code: 'EXPIRED',
  });
});

it('sends a file, and a listener saves it under its name in its downloads folder, never over another file', async () => {
  const [bobWho] = await parleyCommand('bob', ['whoami']);
  const bobId = /userId ([0-9a-f-]{36})/.exec(bobWho!)![1]!;
  const report = randomBytes(200_000);
  const file = path.join(folder, 'report final.pdf');
  await writeFile(file, report);
  const downloads = path.join(folder, 'bob-downloads');

  const saved = (line: string) => line.startsWith('  saved');
  const listening = parleyCommand('bob', ['--downloads', downloads, 'listen'], saved);
  const [sent] = await parleyCommand('alice', ['send-file', bobId, file, 'the', 'numbers']);
  expect(sent).toMatch(/^Sent [0-9a-f-]{36}: report final\.pdf \(200000 bytes\)$/);
  const lines = await listening;
  expect(lines).toContainEqual(expect.stringMatching(/\(device 1\): the numbers$/));
  expect(lines.find(saved)).toBe(`  saved document ${path.join(downloads, 'report final.pdf')} (200000 bytes)`);
  expect((await readFile(path.join(downloads, 'report final.pdf'))).equals(report)).toBe(true);

  const again = parleyCommand('bob', ['--downloads', downloads, 'listen'], saved);
  await parleyCommand('alice', ['send-file', bobId, file]);
  expect((await again).find(saved)).toBe(`  saved document ${path.join(downloads, 'report final (2).pdf')} (200000 bytes)`);
});

/** Runs a command line as the process would: its printed lines, its one error line, its exit status. */
async function parleyProcess(args: string[], options: { answer?: string; until?: (line: string) => boolean } = {}): Promise<{ status: number; lines: string[]; error: string[] }> {
  const error: string[] = [];
  const { io, lines } = terminalIo(async () => options.answer ?? '', options.until);
  const withEndpoints = args[0] === '--store' ? [args[0], store(args[1]!), '--http', parley.httpUrl, '--ws', parley.webSocketUrl, ...args.slice(2)] : args;
  const status = await main(withEndpoints, io, (line) => error.push(line));
  return { status, lines, error };
}

const store = (name: string) => path.join(folder, name);
const smsCode = async (phoneNumber: string, since: number) =>
  /(\d{6})/.exec((await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber && d.at >= since, 5000)).message)![1]!;

it('replies, reacts, edits and deletes for everyone, and a listener shows each with its msgId', async () => {
  const idOf = async (store: string) => /userId ([0-9a-f-]{36})/.exec((await parleyCommand(store, ['whoami']))[0]!)![1]!;
  const [aliceId, bobId] = [await idOf('alice'), await idOf('bob')];
  const heard = parleyCommand('bob', ['listen'], (line) => line.endsWith(': lunch at 1?'));
  const msgId = /^Sent (\S+)$/.exec((await parleyCommand('alice', ['send', bobId, 'lunch', 'at', '1?']))[0]!)![1]!;
  expect((await heard).find((line) => line.endsWith(': lunch at 1?'))).toContain(` ${msgId} ${aliceId} (device 1): lunch at 1?`);

  expect(await parleyCommand('bob', ['react', aliceId, msgId, '👍'])).toEqual([`Reacted 👍 to ${msgId}`]);
  expect((await parleyCommand('bob', ['reply', aliceId, msgId, 'yes!']))[0]).toMatch(/^Sent /);
  const aliceHeard = await parleyCommand('alice', ['listen'], (line) => line.includes(`[replying to ${msgId}`));
  expect(aliceHeard.some((line) => line.endsWith(`${bobId} (device 1) reacted 👍 to ${msgId}`))).toBe(true);
  expect(aliceHeard.some((line) => line.endsWith(`${bobId} (device 1): [replying to ${msgId}: "lunch at 1?"] yes!`))).toBe(true);
  expect(await parleyCommand('alice', ['edit', msgId, 'lunch', 'at', '2?'])).toEqual([`Edited ${msgId}`]);
  await expect(parleyCommand('alice', ['edit', randomUUID(), 'x'])).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE' });
  expect((await parleyCommand('alice', ['delete', msgId]))[0]).toMatch(new RegExp(`^Deleted ${msgId} for everyone \\(\\d+ undelivered cop(y|ies) dropped\\)$`));

  // Bob's laptop was offline throughout: the revoked message never reaches it; the reply's quote still shows.
  const laptopHeard = await parleyCommand('bob-laptop', ['listen'], (line) => line.includes(`deleted ${msgId}`));
  expect(laptopHeard.some((line) => line.endsWith(': lunch at 1?'))).toBe(false);
  expect(laptopHeard.some((line) => line.endsWith(`you (device 1): [replying to ${msgId}: "lunch at 1?"] yes!`))).toBe(true);
  expect(laptopHeard.some((line) => line.endsWith(`${aliceId} (device 1) deleted ${msgId} for everyone`))).toBe(true);
});

it('looks up numbers, sends to a phone number, keeps contacts, privacy and blocks, and listens to presence and typing', async () => {
  const [bobWho] = await parleyCommand('bob', ['whoami']);
  const bobId = /userId ([0-9a-f-]{36})/.exec(bobWho!)![1]!;
  const [aliceWho] = await parleyCommand('alice', ['whoami']);
  const aliceId = /userId ([0-9a-f-]{36})/.exec(aliceWho!)![1]!;
  expect(await parleyCommand('alice', ['lookup', '+14155551302', '+14155551399'])).toEqual([`+14155551302\t${bobId}`, '+14155551399\tnot on Parley']);

  const heard = (line: string) => line.endsWith('(device 1): Hello by number');
  const listening = parleyCommand('bob', ['listen', '+14155551301'], heard);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(await parleyCommand('alice', ['send', '+14155551302', 'Hello', 'by', 'number'])).toEqual([expect.stringMatching(/^Sent /)]);
  const lines = await listening;
  expect(lines.filter(heard)).toHaveLength(1);
  // Bob watched Alice: she came online to send, and went offline with a last-seen time.
  expect(lines).toContainEqual(`${aliceId} is online`);
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${aliceId} is offline, last seen \\d{4}-`)));
  await expect(parleyCommand('alice', ['send', '+14155551399', 'Hi'])).rejects.toThrow('+14155551399 is not on Parley');

  expect(await parleyCommand('alice', ['contacts', 'add', '+14155551302'])).toEqual([bobId]);
  expect(await parleyCommand('alice', ['contacts'])).toEqual([bobId]);
  expect(await parleyCommand('alice', ['contacts', 'remove', bobId])).toEqual([]);
  expect(await parleyCommand('alice', ['privacy'])).toEqual(['lastSeen=everyone online=everyone readReceipts=on']);
  expect(await parleyCommand('alice', ['privacy', 'lastSeen=contacts', 'readReceipts=off'])).toEqual(['lastSeen=contacts online=everyone readReceipts=off']);
  await expect(parleyCommand('alice', ['privacy', 'lastSeen=friends'])).rejects.toThrow(/privacy/);
  expect(await parleyCommand('alice', ['block', '+14155551302'])).toEqual([`Blocked ${bobId}`]);
  expect(await parleyCommand('alice', ['blocks'])).toEqual([expect.stringMatching(new RegExp(`^${bobId}\\tsince \\d{4}-`))]);
  expect(await parleyCommand('alice', ['unblock', bobId])).toEqual([`Unblocked ${bobId}`]);
  expect(await parleyCommand('alice', ['blocks'])).toEqual([]);
});

describe('the first hour: help and failures', () => {
  it('--help and -h print the commands and exit 0, before or after a command', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const { status, lines } = await parleyProcess(args);
      expect(status).toBe(0);
      expect(lines.join('\n')).toMatch(/^usage: parley --store DIR/);
      for (const command of ['register', 'link-token', 'link', 'whoami', 'devices', 'send', 'send-file', 'listen', 'verify']) expect(lines.join('\n')).toContain(`\n  ${command} `);
    }
    for (const args of [['send', '--help'], ['--store', 'nobody', 'register', '-h'], ['help', 'verify']]) {
      const { status, lines } = await parleyProcess(args);
      expect(status).toBe(0);
      expect(lines[0]).toMatch(/^usage: parley --store DIR \[--http URL\] \[--ws URL\] (send|register|verify) /);
    }
  });

  it.each([
    [[], /^usage: parley/],
    [['--bogus', 'x', 'whoami'], /^parley: Unknown option '--bogus'.* \(see parley --help\)$/],
    [['--store', 'nobody', 'frobnicate'], /^parley: unknown command 'frobnicate' \(see parley --help\)$/],
    [['whoami'], /^parley whoami: --store DIR is required/],
    [['--store', 'alice', 'send', 'someone'], /^parley send: missing arguments; usage: parley send <userId\|phone> <text…>$/],
    [['--store', 'nobody', 'register', '+14155551399', '--cod', '1'], /^parley register: Unknown option '--cod'.*\(see parley register --help\)$/],
  ])('a wrong command line %j exits 2 with one line saying what is wrong', async (args, message) => {
    const { status, error } = await parleyProcess(args);
    expect(status).toBe(2);
    expect(error).toHaveLength(1);
    expect(error[0]).toMatch(message);
  });

  it('a command on an empty store says to register first; register on a used store refuses; exit 1', async () => {
    const empty = await parleyProcess(['--store', 'nobody', 'whoami']);
    expect(empty).toMatchObject({ status: 1, error: [expect.stringMatching(/^the store .*nobody holds no device: register one/)] });
    const used = await parleyProcess(['--store', 'alice', 'register', '+14155551301']);
    expect(used).toMatchObject({ status: 1, error: [expect.stringMatching(/^the store .*alice already holds device 1 of user [0-9a-f-]{36}: give the new device another --store$/)] });
  });

  it('register with no code entered exits 1 having stored nothing, and takes the code already received with --code', async () => {
    const phoneNumber = '+14155551311';
    const since = Date.now();
    const noInput = await parleyProcess(['--store', 'dan', 'register', phoneNumber]);
    expect(noInput).toMatchObject({ status: 1, lines: [], error: [expect.stringContaining(`no code entered: nothing registered; when you have the code, run \`parley --store ${store('dan')} register ${phoneNumber} --code CODE\``)] });
    const code = await smsCode(phoneNumber, since);

    // A second try within the minute gets no new code, and says so and what to do.
    const retry = await parleyProcess(['--store', 'dan', 'register', phoneNumber]);
    expect(retry.status).toBe(1);
    expect(retry.error).toEqual([expect.stringMatching(new RegExp(`^no new code for \\${phoneNumber} yet: try again in \\d+ s, or enter the code you already have with .*register \\${phoneNumber} --code CODE\`$`))]);

    const registered = await parleyProcess(['--store', 'dan', 'register', phoneNumber, 'Dan laptop', '--code', code]);
    expect(registered).toMatchObject({ status: 0, lines: [expect.stringMatching(/^Registered: userId [0-9a-f-]{36}, device 1$/)] });
    const wrong = await parleyProcess(['--store', 'erin', 'register', '+14155551312', '--code', '000000']);
    expect(wrong).toMatchObject({ status: 1, error: [expect.stringMatching(/^the server refused: [A-Z_]+: /)] });
  });

  it('a second command on a store in use says which command holds it; listen exits 1 when its connection is taken over', async () => {
    // Connected, not only locked: an intruder that connected before it would be the one replaced.
    let connected!: () => void;
    const listenerConnected = new Promise<void>((resolve) => (connected = resolve));
    const listening = parleyProcess(['--store', 'bob', 'listen'], { until: (line) => (line.startsWith('Listening') && connected(), false) });
    await waitForLockOf(store('bob'));
    await listenerConnected;
    const second = await parleyProcess(['--store', 'bob', 'whoami']);
    expect(second.status).toBe(1);
    expect(second.error).toEqual([expect.stringMatching(new RegExp(`^the store .*bob is in use by \`parley listen\` \\(process ${process.pid}\\): stop that one first`))]);

    // An app that ignores the lock connects as the same device: the server keeps the newer connection.
    const intruder = await ParleyClient.open({ httpUrl: parley.httpUrl, webSocketUrl: parley.webSocketUrl, store: new FileStore(store('bob')) });
    await intruder.connect();
    intruder.close();
    const ended = await listening;
    expect(ended.status).toBe(1);
    expect(ended.error).toEqual([expect.stringMatching(/^the server closed this device's connection: .*CONNECTED_ELSEWHERE/)]);
    expect((await parleyProcess(['--store', 'bob', 'whoami'])).status).toBe(0); // the lock went with it
  });

  it('a server that is not there: one line naming the URLs to check', async () => {
    const error: string[] = [];
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve)); // a port nothing listens on
    const status = await main(['--store', store('alice'), '--http', `http://127.0.0.1:${port}`, '--ws', `ws://127.0.0.1:${port}/local`, 'devices'], { print: () => undefined, ask: async () => '' }, (line) => error.push(line));
    expect(status).toBe(1);
    expect(error).toEqual([expect.stringMatching(/^cannot reach the server \(.*ECONNREFUSED.*\): is `npm start` running, and are --http and --ws the URLs it printed\?$/)]);
  });

  it('as a process: the exit status and one line on stderr', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../bin/parley-cli.ts'), ...args], (error, stdout, stderr) => resolve({ code: (error?.code as number) ?? 0, stdout, stderr })),
      );
    const [help, wrong] = await Promise.all([run(['--help']), run(['--store', folder, 'nonsense'])]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^usage: parley/);
    expect(wrong).toEqual({ code: 2, stdout: '', stderr: "parley: unknown command 'nonsense' (see parley --help)\n" });
  }, 90_000);
});

describe('verify', () => {
  it('shows the same safety number on both sides and marks it verified', async () => {
    const aliceId = /userId ([0-9a-f-]{36})/.exec((await parleyCommand('alice', ['whoami']))[0]!)![1]!;
    const bobId = /userId ([0-9a-f-]{36})/.exec((await parleyCommand('bob', ['whoami']))[0]!)![1]!;
    const fromAlice = await parleyCommand('alice', ['verify', bobId]);
    const bobPhone = fromAlice.find((line) => line.startsWith('device 1: '))!;
    expect(bobPhone).toMatch(/^device 1: (\d{5} ){11}\d{5}$/);
    expect(await parleyCommand('bob', ['verify', aliceId])).toEqual([bobPhone]);
    const marked = await parleyCommand('alice', ['verify', bobId, '--mark']);
    expect(marked[0]).toBe(`Marked ${fromAlice.length} device(s) of ${bobId} verified`);
    expect(marked).toContain(`${bobPhone} (verified)`);
  });
});

async function waitForLockOf(directory: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await readFile(path.join(directory, 'parley.lock'), 'utf8').catch(() => undefined))) {
    if (Date.now() > deadline) throw new Error('the store was never locked');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
