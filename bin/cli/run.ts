/**
 * Runs one `parley` command line: global options, then a command and its own words. Every failure is one
 * line on stderr and a non-zero status (2 for a wrong command line, 1 for anything else).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FileStore } from '../../client';
import { loadLocalDevice } from '../../client/local-device';
import { commands } from './commands';
import { asksForHelp, helpOf, type CliCommand, type CommandContext } from './command';
import { CliError, describeFailure, UsageError } from './errors';
import { terminal, type CliIo } from './io';
import { lockStore } from './store-lock';

/** `npm start`'s endpoints, unless PARLEY_HTTP_URL / PARLEY_WS_URL or --http / --ws say otherwise. */
const DEFAULT_HTTP_URL = 'http://127.0.0.1:3000';
const DEFAULT_WS_URL = 'ws://127.0.0.1:3001/local';

export function usage(): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${c.usage}`.length));
  return `usage: parley --store DIR [--http URL] [--ws URL] [--downloads DIR] <command> [arguments]

A Parley device on the command line; its keys and sessions live in the folder DIR.

Commands:
${commands.map((c) => `  ${`${c.name} ${c.usage}`.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  --store DIR       the folder of this device (made by register or link)
  --http URL        the HTTP API (default $PARLEY_HTTP_URL or ${DEFAULT_HTTP_URL}, npm start's)
  --ws URL          the WebSocket API (default $PARLEY_WS_URL or ${DEFAULT_WS_URL})
  --downloads DIR   where received files go (default DIR/downloads)
  -h, --help        this help; \`parley <command> --help\` for a command's

Start with \`npm start\` in another terminal, then: parley --store ./alice register +14155550100`;
}

/**
 * Options come before the command; everything from the command on is its own, even words that start with
 * `-`: a link token is base64url and may, and so may a message.
 */
function splitAtCommand(argv: readonly string[]): { options: string[]; command: string[] } {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('--') && argv[i] !== '--help') i += argv[i]!.includes('=') ? 1 : 2;
  return { options: argv.slice(0, Math.min(i, argv.length)), command: argv.slice(i) };
}

function parseGlobalOptions(options: string[]) {
  try {
    return parseArgs({
      args: options,
      options: { store: { type: 'string' }, downloads: { type: 'string' }, http: { type: 'string' }, ws: { type: 'string' } },
    }).values;
  } catch (error) {
    throw new UsageError(`parley: ${(error as Error).message.split('\n')[0]} (see parley --help)`);
  }
}

/** Runs a command line; throws what went wrong (a UsageError, CliError or the SDK's own error). */
export async function runCli(argv: readonly string[], io: CliIo = terminal()): Promise<void> {
  const split = splitAtCommand(argv);
  const values = parseGlobalOptions(split.options);
  const [name, ...args] = split.command;
  if (!name) throw new UsageError(usage());
  if (name === '--help' || name === '-h' || name === 'help') {
    const about = commands.find((c) => c.name === args[0]);
    return io.print(about ? helpOf(about) : usage());
  }
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`parley: unknown command '${name}' (see parley --help)`);
  if (asksForHelp(args)) return io.print(helpOf(command));
  if (!values.store) throw new UsageError(`parley ${name}: --store DIR is required: the folder that holds (or will hold) this device`);

  const context: CommandContext = {
    args,
    io,
    storeDirectory: values.store,
    downloads: values.downloads ?? path.join(values.store, 'downloads'),
    client: {
      httpUrl: values.http ?? process.env.PARLEY_HTTP_URL ?? DEFAULT_HTTP_URL,
      webSocketUrl: values.ws ?? process.env.PARLEY_WS_URL ?? DEFAULT_WS_URL,
      store: new FileStore(values.store),
    },
  };
  const lock = await lockStore(values.store, name);
  try {
    await checkStoreFits(command, context);
    await command.run(context);
  } finally {
    await lock.release();
  }
}

/** register and link need an empty store; every other command a store with a device in it. */
async function checkStoreFits(command: CliCommand, { client, storeDirectory }: CommandContext): Promise<void> {
  const device = await loadLocalDevice(client.store).catch(() => undefined);
  const needsDevice = command.needsDevice ?? true;
  if (needsDevice && !device) {
    throw new CliError(`the store ${storeDirectory} holds no device: register one (parley --store ${storeDirectory} register <phoneNumber>) or link one first`);
  }
  if (!needsDevice && device) {
    throw new CliError(`the store ${storeDirectory} already holds device ${device.credentials.deviceId} of user ${device.credentials.userId}: give the new device another --store`);
  }
}

/** Runs a command line as a process does: the error as one line on stderr, and the exit status. */
export async function main(argv: readonly string[], io: CliIo = terminal(), printError: (line: string) => void = (line) => console.error(line)): Promise<number> {
  try {
    await runCli(argv, io);
    return 0;
  } catch (error) {
    const { line, exitCode } = describeFailure(error);
    printError(line);
    return exitCode;
  }
}
