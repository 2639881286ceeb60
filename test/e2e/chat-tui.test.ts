/**
 * `parley chat` driven as a person would, in real terminals: two instances run in tmux panes (a
 * pseudo-terminal each) against one local stack; the test types into them with send-keys and reads the
 * screens with capture-pane.
 */
import { execFile as execFileCallback } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../bin/parley-cli';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';

const execFile = promisify(execFileCallback);
/** A tmux server of this test's own, so nothing else's sessions are touched. */
const SOCKET = `parley-tui-${process.pid}`;
/**
 * The terminals a person would have: without CI's variables, which make Ink draw only the last frame, at
 * exit (CI sets CI=true for the whole suite).
 */
const { CI: _ci, CONTINUOUS_INTEGRATION: _continuous, ...terminalEnv } = process.env;
const tmux = async (...args: string[]) => (await execFile('tmux', ['-L', SOCKET, ...args], { env: terminalEnv })).stdout;

let parley: ParleyLocal;
let folder: string;
const users: Record<'alice' | 'bob', string> = { alice: '', bob: '' };

beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  folder = await mkdtemp(path.join(tmpdir(), 'parley-tui-'));
  for (const [name, phoneNumber] of [['alice', '+14155551401'], ['bob', '+14155551402']] as const) {
    const lines: string[] = [];
    const ask = async () => /(\d{6})/.exec((await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber, 5000)).message)![1]!;
    await runCli(['--store', path.join(folder, name), '--http', parley.httpUrl, '--ws', parley.webSocketUrl, 'register', phoneNumber], { print: (l) => lines.push(l), ask });
    users[name] = /userId ([0-9a-f-]{36})/.exec(lines[0]!)![1]!;
  }
});

afterAll(async () => {
  await tmux('kill-server').catch(() => undefined);
  await parley?.stop();
  await rm(folder, { recursive: true, force: true });
});

/** Starts `parley chat` for a user in a pane of its own, `columns` × `rows`; the pane stays after it exits, saying how. */
async function openTui(name: 'alice' | 'bob', columns = 100, rows = 30): Promise<void> {
  const command = [
    'env FORCE_COLOR=1',
    process.execPath,
    '--import tsx',
    path.join(__dirname, '../../bin/parley-cli.ts'),
    `--store ${path.join(folder, name)} --http ${parley.httpUrl} --ws ${parley.webSocketUrl} chat`,
    '; echo "EXITED $?"; sleep 600',
  ].join(' ');
  await tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), command);
  await screenOf(name, (screen) => screen.includes('● connected'), 45_000);
}

/** The pane's text (with `colours`, its escape sequences too). */
const capture = (name: string, colours = false) => tmux('capture-pane', '-p', ...(colours ? ['-e'] : []), '-t', name);

/** Waits until the screen shows what `shows` looks for; fails with the last screen. */
async function screenOf(name: string, shows: (screen: string) => boolean, timeoutMs = 30_000, colours = false): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = await capture(name, colours);
    if (shows(screen)) return screen;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${name}'s screen never showed what was expected; it shows:\n${screen}`);
}

async function type(name: string, text: string, enter = true): Promise<void> {
  await tmux('send-keys', '-t', name, '-l', text);
  if (enter) await tmux('send-keys', '-t', name, 'Enter');
}

/** A line of the screen with its colours: the SGR code just before `mark` on the line holding `text`. */
function colourOf(screen: string, text: string, mark = '✓✓'): string | undefined {
  const line = screen.split('\n').find((l) => l.includes(text) && l.includes(mark)); // not the chat list's preview
  const at = line?.lastIndexOf(` ${mark}`);
  if (!line || at === undefined || at < 0) return undefined;
  return /\u001b\[(\d+)m$/.exec(line.slice(0, at))?.[1];
}

const GREY = '90';
const BLUE = '94';

it('two people chat: messages on both screens, ticks from ✓ to ✓✓ to blue, presence, typing…, a draft kept as messages come, blocking, a reaction, a resize, a clean quit', async () => {
  // Alice finds Bob by his phone number and writes while Bob's terminal is closed: one tick, the server has it.
  await openTui('alice');
  await type('alice', '/new +14155551402 Bob');
  await screenOf('alice', (s) => /^Chats\s+│ Bob/m.test(s)); // the lookup takes a round trip: the chat opens after it
  await type('alice', 'Are you there?');
  const sent = await screenOf('alice', (s) => /you: Are you there\? ✓\s*$/m.test(s));
  expect(sent).toMatch(/^Chats\s+│ Bob/m);

  // Bob opens his: the message came by SYNC into the open chat, so Alice sees it read (blue ✓✓).
  await openTui('bob');
  await screenOf('bob', (s) => s.includes(`${users.alice.slice(0, 8)}: Are you there?`));
  await type('bob', '/name Alice');
  await screenOf('bob', (s) => s.includes('Alice: Are you there?'));
  expect(colourOf(await screenOf('alice', (s) => colourOf(s, 'Are you there?') === BLUE, 30_000, true), 'Are you there?')).toBe(BLUE);

  // Each sees the other online; while Alice types, Bob sees typing… in the header and the chat list, until she sends.
  await screenOf('alice', (s) => /^Chats\s+│ Bob online/m.test(s));
  await screenOf('bob', (s) => /^Chats\s+│ Alice online/m.test(s) && /^Alice ●/m.test(s));
  await type('alice', 'Yes, here', false);
  await screenOf('bob', (s) => /^Chats\s+│ Alice typing…/m.test(s) && /^typing…/m.test(s));
  await tmux('send-keys', '-t', 'alice', 'Enter');
  await screenOf('bob', (s) => s.includes('Alice: Yes, here') && /^Chats\s+│ Alice online/m.test(s));

  // Bob looks at another chat and starts typing; Alice's next messages are delivered (grey ✓✓), not read.
  await type('bob', `/new ${randomUUID()} Carol`);
  await screenOf('bob', (s) => s.includes('Carol has no Parley account')); // whose presence the chat cannot watch
  await type('bob', 'half a thought', false);
  await type('alice', 'Lunch at noon?');
  await type('alice', 'Or one?');
  await screenOf('alice', (s) => colourOf(s, 'Or one?') === GREY && colourOf(s, 'Lunch at noon?') === GREY, 30_000, true);
  const bobs = await screenOf('bob', (s) => /^Alice \(2\)/m.test(s));
  expect(bobs).toMatch(/^> half a thought/m); // the draft stayed while they came
  expect(bobs).toMatch(/^Or one\?/m); // the chat list's preview

  // Bob goes to Alice's chat: both turn blue on Alice's screen; then he sends his draft.
  await tmux('send-keys', '-t', 'bob', 'Up');
  await screenOf('bob', (s) => s.includes('Alice: Or one?') && /^> half a thought/m.test(s));
  await screenOf('alice', (s) => colourOf(s, 'Or one?') === BLUE && colourOf(s, 'Lunch at noon?') === BLUE, 30_000, true);
  await tmux('send-keys', '-t', 'bob', 'Enter');
  await screenOf('alice', (s) => s.includes('Bob: half a thought'));
  await screenOf('bob', (s) => /you: half a thought ✓✓/.test(s));

  // Safety numbers: each side shows the same digits for the other.
  await type('alice', '/verify');
  await type('bob', '/verify');
  const digits = (s: string) => s.slice(s.indexOf('Safety numbers')).match(/\b\d{5}\b/g)?.join(' ');
  const twelveGroups = (s: string) => digits(s)?.split(' ').length === 12;
  const [aliceSees, bobSees] = [digits(await screenOf('alice', twelveGroups)), digits(await screenOf('bob', twelveGroups))];
  expect(aliceSees).toMatch(/^(\d{5} ){11}\d{5}$/);
  expect(aliceSees).toBe(bobSees);

  // A file: Alice sends it from the composer, Bob's screen shows it and where it was saved.
  const menu = path.join(folder, 'menu.txt');
  await writeFile(menu, 'soup, bread, '.repeat(200));
  await type('alice', `/send-file ${menu} today's menu`);
  await screenOf('alice', (s) => s.includes(`you: 📎 ${menu} today's menu ✓`));
  const saved = path.join(folder, 'bob', 'downloads', 'menu.txt');
  await screenOf('bob', (s) => s.includes("Alice: 📎 menu.txt (3 KB) today's menu") && s.includes(`saved ${saved}`));
  expect(await readFile(saved, 'utf8')).toBe('soup, bread, '.repeat(200));

  // A smaller terminal: the layout fits it, nothing drawn twice, the composer and status bar still there.
  await tmux('resize-window', '-t', 'bob', '-x', '60', '-y', '16');
  // Wait for the redrawn layout, not the first frame tmux captures mid-resize.
  const fitsSmall = (s: string) =>
    s.split('\n').filter(Boolean).every((line) => line.length <= 60) &&
    /^>/m.test(s) &&
    s.split('\n').filter((row) => row.startsWith('Chats')).length === 1 &&
    s.includes('you: half a thought');
  const small = await screenOf('bob', fitsSmall);
  const rows = small.replace(/\n$/, '').split('\n');
  expect(rows.length).toBeLessThanOrEqual(16);
  expect(rows.filter((row) => row.startsWith('Chats'))).toHaveLength(1);
  expect(small).toMatch(/● connected/);
  expect(small).toContain('you: half a thought');
  await tmux('resize-window', '-t', 'bob', '-x', '100', '-y', '30');
  await screenOf('bob', (s) => s.split('\n').filter((row) => row.startsWith('Chats')).length === 1 && s.includes('│ Alice'));

  // Alice blocks Bob and unblocks him: her header says so.
  await type('alice', '/block');
  await screenOf('alice', (s) => /^Chats\s+│ Bob blocked/m.test(s) && s.includes('You blocked Bob'));
  await type('alice', '/unblock');
  await screenOf('alice', (s) => /^Chats\s+│ Bob( online)?\s*$/m.test(s) && s.includes('You unblocked Bob'));

  // Bob reacts to Alice's newest message (/react without a number): her screen shows it after her message.
  await type('alice', 'Soup again');
  await screenOf('bob', (s) => s.includes('Alice: Soup again'));
  await type('bob', '/react 👍');
  await screenOf('alice', (s) => /you: Soup again ✓+ \[👍 Bob\]/.test(s));

  // /quit and Ctrl-C both end it with status 0, the shell's screen back; Alice sees when Bob was last seen.
  await tmux('send-keys', '-t', 'bob', 'C-c');
  await screenOf('alice', (s) => /^Chats\s+│ Bob last seen (today|yesterday) \d\d:\d\d/m.test(s));
  await type('alice', '/quit');
  for (const name of ['alice', 'bob']) expect(await screenOf(name, (s) => s.includes('EXITED'))).toMatch(/^EXITED 0$/m);
}, 400_000);
