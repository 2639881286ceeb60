/** s3rver ships no types; this declares the part the local runtime uses. */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    /** Suppresses its request log. */
    silent?: boolean;
    /** Where buckets and objects are kept as files. */
    directory?: string;
    /** Empties `directory` when the server closes. */
    resetOnClose?: boolean;
  }

  /** An S3-compatible server; accepts only the access key id `S3RVER`. */
  class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
  export = S3rver;
}
