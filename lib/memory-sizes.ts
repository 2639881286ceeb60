import { functions, type FunctionId } from '../lambdas/functions';

/**
 * Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB, so ~0.15 vCPU at 256 MB,
 * and bills GB-seconds. Below one vCPU, work that waits on the CPU (importing the bundle at a cold start,
 * the SDK's serialization and signing, some 0.7–1 ms of CPU per request) costs the same at any size,
 * doubling the memory halving its time; only time spent waiting on DynamoDB, Kinesis or a socket costs
 * more with more memory. So the functions on every message's path, where latency matters and CPU is most
 * of the work, get more; the rare ones (accounts, keys, media, group management) stay at the floor.
 * See the README's "Lambda memory" for the figures.
 */
export const DEFAULT_MEMORY_SIZE = 256;

/** Memory of the functions that differ from {@link DEFAULT_MEMORY_SIZE}, MB. */
export const DEFAULT_MEMORY_SIZES: Readonly<Partial<Record<FunctionId, number>>> = {
  // Every message and receipt: a handful of SDK requests each, in series, on the sender's or recipient's wait.
  webSocketAuthorizer: 512,
  connect: 512,
  send: 512,
  groupSend: 512,
  delivered: 512,
  read: 512,
  sync: 512,
  // One invocation per stream batch does the work for every recipient device: for a group of 1,024
  // members, ~110 batched requests and the posts to live connections.
  fanout: 1024,
  groupFanout: 1024,
};

export const MIN_MEMORY_SIZE = 128;
export const MAX_MEMORY_SIZE = 10_240;

/** What sets the memory: one size for every function, then sizes per function on top. */
export interface MemorySettings {
  readonly memorySize?: number;
  readonly memorySizes?: Readonly<Partial<Record<FunctionId, number>>>;
}

/**
 * The memory of `functionId`, MB: its own entry in `memorySizes`, else `memorySize` for every function, else
 * Parley's default for it.
 *
 * @example
 * memorySizeOf('fanout', {});                                 // 1024
 * memorySizeOf('fanout', { memorySize: 256 });                // 256
 * memorySizeOf('fanout', { memorySize: 256, memorySizes: { fanout: 2048 } }); // 2048
 */
export function memorySizeOf(functionId: FunctionId, settings: MemorySettings): number {
  return settings.memorySizes?.[functionId] ?? settings.memorySize ?? DEFAULT_MEMORY_SIZES[functionId] ?? DEFAULT_MEMORY_SIZE;
}

/** Refuses a size Lambda would refuse, or an entry for a function Parley does not have, naming `source`. */
export function checkMemorySettings(settings: MemorySettings, source: string): void {
  const check = (size: number, what: string) => {
    if (!Number.isInteger(size) || size < MIN_MEMORY_SIZE || size > MAX_MEMORY_SIZE) {
      throw new Error(`${what} must be ${MIN_MEMORY_SIZE} to ${MAX_MEMORY_SIZE} (MB), not ${JSON.stringify(size)}`);
    }
  };
  if (settings.memorySize !== undefined) check(settings.memorySize, 'memorySize');
  for (const [functionId, size] of Object.entries(settings.memorySizes ?? {})) {
    if (!(functionId in functions)) throw new Error(`${source}: there is no function ${JSON.stringify(functionId)}`);
    check(size as number, `${source}.${functionId}`);
  }
}
