/** The `parley` command-line client against the local stack: register, link, send, send-file, listen, lookup, contacts, privacy, block. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, type CliIo } from '../../bin/parley-cli';
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
  const lines: string[] = [];
  let stop!: () => void;
  const stopListening = new Promise<void>((resolve) => {
    stop = resolve;
    setTimeout(resolve, 5000).unref();
  });
  const io: CliIo = {
    print: (line) => {
      lines.push(line);
      if (until?.(line)) stop();
    },
    ask: async () => {
      const phoneNumber = args[1]!;
      const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber, 5000);
      return /(\d{6})/.exec(sms.message)![1]!;
    },
    stopListening,
  };
  await runCli(['--store', path.join(folder, store), '--http', parley.httpUrl, '--ws', parley.webSocketUrl, ...args], io);
  return lines;
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
