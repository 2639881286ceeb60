/**
 * What a Lambda bundle takes in place of `@smithy/core/event-streams` when its function uses no AWS client
 * with event-stream operations (only Kinesis' SubscribeToShard and S3's SelectObjectContent have any; their
 * clients import the module statically and keep it). The other clients load it only with a dynamic
 * `import()` on the way to such an operation, which they do not have, yet esbuild bundles what a dynamic
 * import names: 15 KB parsed at every cold start and never run. An esbuild alias (lib/bundled-clients.ts)
 * puts this module there instead; the local runtime and tests load the SDK's own.
 */
function notBundled(): never {
  throw new Error('AWS event streams are not in this bundle: its function uses no client with event-stream operations (lib/bundled-clients.ts)');
}

/** The names `HttpProtocol.loadEventStreamCapability` takes from the module. */
export class EventStreamSerde {
  constructor() {
    notBundled();
  }
}
export const eventStreamSerdeProvider = notBundled;
/** Imported by the Kinesis and S3 clients, which a bundle with this module holds only as dead code esbuild drops. */
export const resolveEventStreamSerdeConfig = notBundled;
