/** kinesalite ships no types; this declares the part the local runtime uses. */
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  interface KinesaliteOptions {
    /** LevelDB directory; in memory when unset. */
    path?: string;
    /** How long streams stay CREATING, DELETING, UPDATING; default 500 ms each. */
    createStreamMs?: number;
    deleteStreamMs?: number;
    updateStreamMs?: number;
    /** Shards per account; default 10. */
    shardLimit?: number;
  }

  /** A Kinesis-compatible HTTP server, not yet listening. */
  function kinesalite(options?: KinesaliteOptions): Server;
  export = kinesalite;
}
