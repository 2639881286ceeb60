/** What the main thread and the emulator thread (emulator-thread.ts) tell each other, besides requests and their answers (request-port.ts). */
import type { MessagePort } from 'node:worker_threads';
import type { ThreadedService } from './emulator-servers';

export interface ThreadSetup {
  /** LevelDB directory per emulator; in memory where unset. */
  readonly directories: Partial<Record<ThreadedService, string>>;
}

/** To the thread: serve requests that come through this port too (a function thread's own channel). */
export interface ThreadConnect {
  readonly type: 'connect';
  readonly port: MessagePort;
}

export type ThreadMessage =
  | { readonly type: 'ready'; readonly endpoints: Readonly<Record<ThreadedService, string>> }
  | { readonly type: 'start failed'; readonly message: string }
  | { readonly type: 'crashed'; readonly message: string }
  | { readonly type: 'put'; readonly streamName: string; readonly hashKeys: bigint[] }
  | { readonly type: 'stopped' };
