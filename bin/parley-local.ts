#!/usr/bin/env -S npx tsx
/**
 * `npm start`: runs the whole of Parley on this machine, with no AWS account.
 *   --data DIR        keep data on disk in DIR across restarts (default: in memory)
 *   --http-port N     HTTP API port (default 3000, or a free port when 3000 is taken; 0: any free port)
 *   --ws-port N       WebSocket API port (default 3001, or a free port when 3001 is taken)
 *   --one-thread      everything on the main thread (default: DynamoDB and Kinesis on a thread of their own, and
 *                     the function invocations on two worker threads)
 */
import { parseArgs } from 'node:util';
import { choosePort } from '../local/local-server';
import { useLocalProcessEnvironment } from '../local/process-environment';

const usage = `usage: npm start -- [--data DIR] [--http-port N] [--ws-port N]
  --data DIR        keep accounts, devices and queued messages on disk in DIR (default: in memory)
  --http-port N     the HTTP API's port (default 3000, or any free port when it is taken; 0: any free port)
  --ws-port N       the WebSocket API's port (default 3001, likewise)
  --one-thread      run DynamoDB, Kinesis and the function invocations on the main thread with everything else
                    (default: the emulators on a thread of their own and the invocations on two worker threads,
                    as Lambda runs concurrent invocations apart, so that the second core takes their work)`;

/** As many as this class of machine has cores: a third would only take turns with the others. */
const LOCAL_FUNCTION_THREADS = 2;

async function main(): Promise<void> {
  let values;
  try {
    values = parseArgs({ options: { data: { type: 'string' }, 'http-port': { type: 'string' }, 'ws-port': { type: 'string' }, 'one-thread': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    throw new Error(`${(error as Error).message.split('\n')[0]}\n${usage}`);
  }
  if (values.help) return console.log(usage);
  const http = await choosePort('HTTP API', '--http-port', values['http-port'], 3000);
  const webSocket = await choosePort('WebSocket API', '--ws-port', values['ws-port'], 3001);
  useLocalProcessEnvironment('INFO');
  // Loaded only now: a busy port or a wrong flag is answered at once, without loading every handler; and the
  // handlers' logger reads the level just set when its module loads.
  const { startParleyLocal } = require('../local/runtime') as typeof import('../local/runtime');

  const parley = await startParleyLocal({
    ...(values.data ? { dataDir: values.data } : {}),
    httpPort: http.port,
    webSocketPort: webSocket.port,
    emulatorThread: !values['one-thread'],
    functionThreads: values['one-thread'] ? 0 : LOCAL_FUNCTION_THREADS,
    log: (line) => console.log(line),
  });
  for (const note of [http.note, webSocket.note]) if (note) console.log(note);
  console.log(`Parley is running locally${values.data ? ` (data in ${values.data})` : ' (data in memory)'}`);
  console.log(`  WebSocket API  ${parley.webSocketUrl}`);
  console.log(`  HTTP API       ${parley.httpUrl}`);
  console.log('The parley CLI (npm run parley) finds it when its shell has:');
  console.log(`  export PARLEY_HTTP_URL=${parley.httpUrl} PARLEY_WS_URL=${parley.webSocketUrl}`);
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
  console.error(`Parley failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
