/** The shape of one `parley` command: its own module, usage line and help text, so adding one is adding a file. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ParleyClient, type ParleyClientOptions } from '../../client';
import type { CliIo } from './io';
import { UsageError } from './errors';

export interface CommandContext {
  /** The words after the command's name. */
  readonly args: readonly string[];
  readonly io: CliIo;
  /** The folder holding this device (--store). */
  readonly storeDirectory: string;
  /** Where received files go (--downloads). @default <store>/downloads */
  readonly downloads: string;
  /** The store and the endpoints (--http, --ws), ready for ParleyClient. */
  readonly client: ParleyClientOptions;
}

export interface CliCommand {
  readonly name: string;
  /** Its arguments, as the help shows them: `<userId> <text…>`. */
  readonly usage: string;
  /** One line for the command list. */
  readonly summary: string;
  /** More, for `parley <command> --help`: options, what it prints, examples. */
  readonly details?: string;
  /** Whether it needs the store to hold a device already (all but register and link). @default true */
  readonly needsDevice?: boolean;
  run(context: CommandContext): Promise<void>;
}

/** `--help`/`-h` as the first word after the command, where free text (a message, a token) cannot start. */
export const asksForHelp = (args: readonly string[]) => args[0] === '--help' || args[0] === '-h';

export function helpOf(command: CliCommand): string {
  return [`usage: parley --store DIR [--http URL] [--ws URL] ${command.name} ${command.usage}`.trimEnd(), '', command.summary, ...(command.details ? ['', command.details] : [])].join('\n');
}

/** The command's own flags and words; a wrong flag is a usage error naming the command. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(command: CliCommand, args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`parley ${command.name}: ${(error as Error).message.split('\n')[0]} (see parley ${command.name} --help)`);
  }
}

/** Checks the number of words, else a usage error with the command's usage line. */
export function requireArgs(command: CliCommand, args: readonly string[], count: number): void {
  if (args.length < count) throw new UsageError(`parley ${command.name}: missing arguments; usage: parley ${command.name} ${command.usage}`);
}

/** Opens the store's device, runs `work`, and closes the client whatever happens. */
export async function withClient<T>(context: CommandContext, work: (client: ParleyClient) => Promise<T>): Promise<T> {
  const client = await ParleyClient.open(context.client);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}
