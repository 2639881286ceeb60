/** dynalite ships no types; this declares the part the local runtime uses. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** LevelDB directory; in memory when unset. */
    path?: string;
    /** How long tables stay CREATING, DELETING, UPDATING; default 500 ms each. */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
  }

  /** A DynamoDB-compatible HTTP server, not yet listening. */
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
