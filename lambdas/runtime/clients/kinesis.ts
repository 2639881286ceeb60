import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { MakeClient } from '../clients';

// Kinesis defaults to HTTP/2, which only SubscribeToShard needs; PutRecord(s) over HTTP/1.1 with keep-alive
// works everywhere, the local emulator included.
export const makeKinesisClient: MakeClient<'kinesis'> = (config, { instrument }) =>
  instrument(new KinesisClient({ ...config, requestHandler: config.requestHandler ?? new NodeHttpHandler() }));
