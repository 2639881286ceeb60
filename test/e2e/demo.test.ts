/**
 * `npm run demo`, as CI runs it: the script exits 0 having printed what every device showed. And the
 * demo's own check can fail: with the fanout dropping messages, it reports which device missed what.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { runDemo } from '../../bin/demo/script';
import { startParleyLocal } from '../../local/runtime';

it('npm run demo: every message arrives decrypted on every device, and it exits 0', async () => {
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../bin/demo.ts')], (error, stdout) => resolve({ code: (error?.code as number) ?? 0, stdout })),
  );
  expect(stdout).toMatch(/\nPASS: 8 messages, all 20 deliveries decrypted on every device they were meant for \(\d+\.\d s\)\n$/);
  expect(code).toBe(0);
  for (const shown of [
    'Bob’s phone      Alice: Hi Bob! Lunch tomorrow?',
    'Alice’s laptop   you: Hi Bob! Lunch tomorrow?',
    'Carol’s phone    Alice [group]: Carol, join us for lunch?',
    'Bob’s phone      back online: 2 message(s) came by SYNC',
    'Alice’s phone    ✓✓ read by Bob',
    'Alice’s tablet   chat with Bob: “Bob, the place is booked”',
    'Alice’s tablet   Bob: Thanks, see you!',
  ]) {
    expect(stdout).toContain(shown);
  }
  expect(stdout).not.toMatch(/"level"/); // no server log lines in what a person reads
}, 120_000);

it('fails, naming the device and message, when a message does not arrive', async () => {
  let fanouts = 0;
  // The fanout "succeeds" without delivering from its fourth batch on: those messages are lost.
  const parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, intercept: (id, invoke) => async (event) => (id === 'fanout' && ++fanouts > 3 ? {} : invoke(event)) });
  try {
    const lines: string[] = [];
    const result = await runDemo(parley, (line) => lines.push(line), { waitMs: 1500 });
    expect(result.stoppedBy).toMatch(/did not get \d+ message\(s\) within 1500 ms/);
    expect(result.missing.length).toBeGreaterThan(0);
    expect(result.missing[0]).toMatch(/^(Alice|Bob|Carol)’s (phone|laptop): /);
    expect(lines).toContain(`  the demo stopped: ${result.stoppedBy}`);
  } finally {
    await parley.stop();
  }
}, 60_000);
