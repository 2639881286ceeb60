/**
 * Telling a device its one-time prekeys run low. The notice is queued like a receipt (store first, push
 * second): a live device gets it at once, an offline one with its next SYNC, which every client sends
 * after connecting. `$connect` itself cannot send anything, as API Gateway opens the connection only
 * after it returns. One notice per device until it uploads one-time prekeys again.
 */
import { randomUUID } from 'node:crypto';
import { LOW_PREKEY_COUNT } from '../protocol/keys-api';
import type { PrekeysLowFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';
import { sendToDevice } from '../connect/sessions';
import { markLowNotice } from '../tables/device-keys';
import { deleteQueued, enqueue, positionOf, QUEUE_TTL_MS, queueOf } from '../tables/device-queues';
import { countPrekeys, poolOf, type PrekeyKind } from '../tables/one-time-prekeys';
import { prekeyCounts } from './prekey-counts';
import { METRIC, recordMetric } from '../runtime/metrics';

/** After a fetch took from the device's pool: if fewer than 10 of a kind are left, queue and push PREKEYS_LOW. */
export async function noticeLowPrekeys(deps: Deps, userId: string, deviceId: number): Promise<void> {
  const pool = poolOf(userId, deviceId);
  // Counted after the take, so of racing fetches the last to count sees what they left together.
  const upToLow = await prekeyCounts(deps, pool, LOW_PREKEY_COUNT);
  const plenty = (kind: PrekeyKind, counted: number) => (counted < LOW_PREKEY_COUNT ? counted : countPrekeys(deps, pool, kind));
  if (upToLow.oneTimePrekeys >= LOW_PREKEY_COUNT && upToLow.kyberPrekeys >= LOW_PREKEY_COUNT) return;
  // A count under the limit is exact already; the other kind, if it has plenty, is counted in full.
  const exact = { oneTimePrekeys: await plenty('ec', upToLow.oneTimePrekeys), kyberPrekeys: await plenty('kyber', upToLow.kyberPrekeys) };

  const serverTs = deps.now();
  const noticeId = randomUUID();
  const frame: PrekeysLowFrame = { type: 'PREKEYS_LOW', noticeId, ...exact, serverTs, cursor: positionOf(serverTs, noticeId) };
  const item = { device: queueOf(userId, deviceId), position: frame.cursor, frame, expiresAt: Math.ceil((serverTs + QUEUE_TTL_MS) / 1000) };
  await enqueue(deps, item);
  if (!(await markLowNotice(deps, userId, deviceId, serverTs))) {
    // A racing fetch's notice went out first: one is enough.
    await deleteQueued(deps, item);
    return;
  }
  recordMetric(METRIC.prekeyLowNotices);
  await sendToDevice(deps, userId, deviceId, frame);
}
