#!/usr/bin/env -S npx tsx
/**
 * `npm run demo`: starts a local stack in this process (free ports, in memory), has Alice (phone, laptop,
 * then a tablet), Bob and Carol chat by script, prints what each device shows, and exits 0 when every
 * message arrived decrypted on every device it was meant for, 1 otherwise. See bin/demo/script.ts.
 */
import { useLocalProcessEnvironment } from '../local/process-environment';

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log('usage: npm run demo\n\nStarts a local stack in this process and has Alice, Bob and Carol chat by script; exits 0 when every message arrived decrypted on every device.');
    return 0;
  }
  useLocalProcessEnvironment('SILENT');
  // Loaded after the log level is set: the handlers' logger reads it once, when its module loads.
  const { startParleyLocal } = require('../local/runtime') as typeof import('../local/runtime');
  const { runDemo } = require('./demo/script') as typeof import('./demo/script');
  const started = Date.now();
  const parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  try {
    console.log(`Parley's local stack is up (${parley.httpUrl}, ${parley.webSocketUrl}); every line below is what a device shows.\n`);
    const result = await runDemo(parley);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.missing.length || result.stoppedBy) {
      const stopped = result.stoppedBy ? `; it stopped early: ${result.stoppedBy}` : '';
      console.log(`\nFAIL: ${result.missing.length} of ${result.owed} deliveries missing${stopped} (${seconds} s)${result.missing.map((m) => `\n  ${m}`).join('')}`);
      return 1;
    }
    console.log(`\nPASS: ${result.sent} messages, all ${result.owed} deliveries decrypted on every device they were meant for (${seconds} s)`);
    return 0;
  } finally {
    await parley.stop();
  }
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error(`the demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
