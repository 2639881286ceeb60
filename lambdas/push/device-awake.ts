/** The device connected: a message that reaches it offline after it leaves again may wake it at once. */
import type { Deps } from '../runtime/deps';
import { logger } from '../runtime/observability';
import { clearWakeUp } from '../tables/devices';

/**
 * Clears the device's last wake-up (see `WAKE_UP_INTERVAL_MS`). Best effort, so that it never refuses a
 * connection: if it fails, the next wake-up waits out the interval instead. Apart from the SNS code,
 * which `$connect` has no use for.
 */
export async function markDeviceAwake(deps: Deps, userId: string, deviceId: number): Promise<void> {
  try {
    await clearWakeUp(deps, userId, deviceId);
  } catch (error) {
    logger.warn('Wake-up not cleared', { userId, deviceId, error: error as Error });
  }
}
