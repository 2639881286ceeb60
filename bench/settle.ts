/** Waiting for the system to go quiet: the stream drained and no frame arriving for a while. */
import { performance } from 'node:perf_hooks';
import type { ParleyLocal } from '../local/runtime';
import { lastFrameTime } from './device';
import { sleep } from './stats';

/**
 * Resolves once the stream is drained and no device has received a frame for `quietMs` (receipts and
 * DELIVERED_ACKs trail the messages), or after `timeoutMs`; answers whether it went quiet.
 */
export async function settle(parley: ParleyLocal, quietMs = 400, timeoutMs = 20_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    await Promise.race([parley.drainStreams(), sleep(Math.max(0, deadline - performance.now()))]);
    const quietFor = performance.now() - lastFrameTime();
    if (quietFor >= quietMs) return true;
    await sleep(quietMs - quietFor);
  }
  return false;
}
