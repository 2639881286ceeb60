#!/usr/bin/env -S npx tsx
/**
 * `parley`: a command-line Parley device on the client SDK, its keys and sessions in a folder.
 *   npm run parley -- --help
 *   npm run parley -- --store ./alice register +14155550100     (asks for the SMS code; --code CODE if you have it)
 *   npm run parley -- --store ./alice send <userId> Hello there
 *   npm run parley -- --store ./alice listen                    (prints messages and ticks until Ctrl-C)
 *   npm run parley -- --store ./alice chat                      (the interactive terminal client)
 * Each command is a module in bin/cli/commands/ with its own help text.
 */
import { main } from './cli/run';

export { main, runCli, usage } from './cli/run';
export type { CliIo } from './cli/io';

if (require.main === module) {
  void main(process.argv.slice(2)).then((status) => {
    process.exitCode = status;
  });
}
