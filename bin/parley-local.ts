#!/usr/bin/env -S npx tsx
/**
 * `npm start`: runs the whole of Parley on this machine, with no AWS account.
 *   --data DIR        keep data on disk in DIR across restarts (default: in memory)
 *   --http-port N     HTTP API port (default 3000)
 *   --ws-port N       WebSocket API port (default 3001)
 */
import { parseArgs } from 'node:util';
import { useLocalProcessEnvironment } from '../local/process-environment';
import { startParleyLocal } from '../local/runtime';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      'http-port': { type: 'string', default: '3000' },
      'ws-port': { type: 'string', default: '3001' },
    },
  });
  useLocalProcessEnvironment('INFO');

  const parley = await startParleyLocal({
    ...(values.data ? { dataDir: values.data } : {}),
    httpPort: Number(values['http-port']),
    webSocketPort: Number(values['ws-port']),
    log: (line) => console.log(line),
  });
  console.log(`Parley is running locally${values.data ? ` (data in ${values.data})` : ' (data in memory)'}`);
  console.log(`  WebSocket API  ${parley.webSocketUrl}`);
  console.log(`  HTTP API       ${parley.httpUrl}`);
  console.log('Verification codes appear in this log, as the SMS the local SNS endpoint records. Ctrl-C stops.');

  const shutdown = () => {
    parley.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error('Parley failed to start:', error);
  process.exit(1);
});
