/**
 * AWS list prices the cost model uses: us-east-1, on-demand, no free tier, no volume tiers beyond the
 * first. These are list prices as remembered when this file was written (2025), not fetched: check each
 * against its source page before relying on a figure.
 */
export interface Price {
  /** US dollars per `unit`. */
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** When the price was last known to hold. */
  readonly asOf: string;
  readonly note?: string;
}

const checked = 'remembered list price, 2025; to be checked';

export const prices = {
  apiGatewayWebSocketMessages: {
    usd: 1.0 / 1e6,
    unit: 'WebSocket message (each 32 KB, in either direction; first 1 billion a month)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    asOf: checked,
  },
  apiGatewayConnectionMinutes: {
    usd: 0.25 / 1e6,
    unit: 'connection-minute',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    asOf: checked,
  },
  lambdaRequests: {
    usd: 0.2 / 1e6,
    unit: 'invocation',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: checked,
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second (Arm, first 7.5 billion GB-s a month; billed per 1 ms)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: checked,
  },
  dynamoDbWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'write request unit (on-demand, after the November 2024 price cut)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: checked,
  },
  dynamoDbReadRequestUnit: {
    usd: 0.125 / 1e6,
    unit: 'read request unit (on-demand, after the November 2024 price cut)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: checked,
  },
  kinesisOnDemandIngestGb: {
    usd: 0.08,
    unit: 'GB ingested (on-demand stream; each record rounded up to 1 KB)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: checked,
  },
  kinesisEnhancedFanOutGb: {
    usd: 0.05,
    unit: 'GB read by an enhanced fan-out consumer (taken as rounded up to 1 KB a record, like ingest)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: checked,
  },
  kinesisProvisionedPutPayloadUnit: {
    usd: 0.014 / 1e6,
    unit: 'PUT payload unit (25 KB; provisioned streams only, shown for comparison)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: checked,
  },
  kinesisOnDemandStreamHour: {
    usd: 0.04,
    unit: 'stream-hour (on-demand; a fixed cost, not per message)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: checked,
  },
  dynamoDbStorageGbMonth: {
    usd: 0.25,
    unit: 'GB-month of DynamoDB Standard table storage (each item billed 100 bytes over its size)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: checked,
  },
  apiGatewayHttpRequests: {
    usd: 1.0 / 1e6,
    unit: 'HTTP API request (each 512 KB; first 300 million a month)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    asOf: checked,
  },
  s3PutRequests: {
    usd: 0.005 / 1000,
    unit: 'S3 Standard PUT, COPY, POST or LIST request',
    source: 'https://aws.amazon.com/s3/pricing/',
    asOf: checked,
  },
  s3GetRequests: {
    usd: 0.0004 / 1000,
    unit: 'S3 Standard GET, HEAD or other request',
    source: 'https://aws.amazon.com/s3/pricing/',
    asOf: checked,
  },
  s3StandardStorageGbMonth: {
    usd: 0.023,
    unit: 'GB-month of S3 Standard storage (first 50 TB a month)',
    source: 'https://aws.amazon.com/s3/pricing/',
    asOf: checked,
  },
  dataTransferOutGb: {
    usd: 0.09,
    unit: 'GB out from S3 to the internet (first 10 TB a month; the first 100 GB a month free, left out)',
    source: 'https://aws.amazon.com/s3/pricing/ (Data Transfer) and https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer',
    asOf: checked,
  },
} as const satisfies Record<string, Price>;

export type PriceId = keyof typeof prices;
