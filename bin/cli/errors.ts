/** How a `parley` command fails: one line for the person at the terminal, and the process's exit status. */
import { ClientClosedError, MessageActionError, ParleyApiError } from '../../client/errors';

/** The command line was wrong: exit status 2, as for a shell builtin's usage error. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command could not do its work; the message says why and what to do. Exit status 1. */
export class CliError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** One line for any error a command can meet: the server's code and what to do about it when we know. */
export function describeFailure(error: unknown): { line: string; exitCode: number } {
  if (error instanceof UsageError || error instanceof CliError) return { line: error.message, exitCode: error.exitCode };
  if (error instanceof ParleyApiError) {
    const retry = error.retryAfterSeconds !== undefined ? ` (try again in ${error.retryAfterSeconds} s)` : '';
    return { line: `the server refused: ${error.code}: ${error.message}${retry}`, exitCode: 1 };
  }
  if (error instanceof MessageActionError) return { line: `refused: ${error.code}: ${error.message}; nothing was sent`, exitCode: 1 };
  if (error instanceof ClientClosedError) return { line: `the server closed this device's connection: ${error.reason}`, exitCode: 1 };
  // fetch hides the socket's error in `cause`; ws raises it as is.
  const cause = ((error as { cause?: NodeJS.ErrnoException })?.cause ?? error) as NodeJS.ErrnoException;
  if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || (error as Error)?.message === 'fetch failed') {
    return { line: `cannot reach the server (${cause.message}): is \`npm start\` running, and are --http and --ws the URLs it printed?`, exitCode: 1 };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: message.split('\n')[0]!, exitCode: 1 };
}
