/** What the main thread and the emulator thread (emulator-thread.ts) tell each other. */
import type { ThreadedService } from './emulator-servers';

export interface ThreadSetup {
  /** LevelDB directory per emulator; in memory where unset. */
  readonly directories: Partial<Record<ThreadedService, string>>;
}

/** A signed SDK request, its body read into memory. */
export interface ThreadRequest {
  readonly type: 'request';
  readonly id: number;
  readonly service: ThreadedService;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly query?: Record<string, string | readonly string[] | null | undefined>;
    readonly headers: Record<string, string>;
    readonly body?: string | Uint8Array;
  };
}

export type ThreadMessage =
  | { readonly type: 'ready'; readonly endpoints: Readonly<Record<ThreadedService, string>> }
  | { readonly type: 'start failed'; readonly message: string }
  | { readonly type: 'crashed'; readonly message: string }
  | { readonly type: 'response'; readonly id: number; readonly statusCode: number; readonly reason?: string; readonly headers: Record<string, string>; readonly body: Uint8Array }
  | { readonly type: 'failed'; readonly id: number; readonly name: string; readonly message: string; readonly code?: string }
  | { readonly type: 'put'; readonly streamName: string; readonly hashKeys: bigint[] }
  | { readonly type: 'stopped' };
