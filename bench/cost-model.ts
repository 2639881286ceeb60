/**
 * From what one window of the 1:1 scenario used to dollars per million messages: every count divided by
 * the messages sent in the window, times the list prices of `prices.ts`.
 */
import type { FrameCounts } from './device';
import { prices } from './prices';
import type { FunctionUsage, Usage } from './request-counter';
import { memorySizeOf } from '../lib/memory-sizes';
import type { FunctionId } from '../lambdas/functions';

/**
 * Memory of a function in the model, MB: `lambdaMemoryMb` for every function when set (`--lambda-memory-mb`),
 * else what the stack deploys it with by default (lib/memory-sizes.ts), as Lambda bills it.
 */
const memoryMbOf = (id: string, lambdaMemoryMb: number) => (lambdaMemoryMb > 0 ? lambdaMemoryMb : memorySizeOf(id as FunctionId, {}));

export interface CostLine {
  /**
   * What the line prices, the same in every run (`lambda sync duration`, `dynamodb conversations reads`):
   * two models of one path are compared line by line by it (see {@link costDifference}).
   */
  readonly key?: string;
  readonly item: string;
  /** Billed units per message sent. */
  readonly perMessage: number;
  readonly unit: string;
  readonly usdPerMillionMessages: number;
}

export interface CostModel {
  /** Which messages were priced: alone, or averaged over a run whose batches they shared. */
  readonly scenario: string;
  readonly messages: number;
  readonly lambdaMemoryMb: number;
  readonly lambdaDurationSource: string;
  readonly lines: CostLine[];
  readonly usdPerMillionMessages: number;
  /** A device connected all month, whatever it sends: API Gateway connection-minutes. */
  readonly usdPerAlwaysConnectedDeviceMonth: number;
}

const round = (value: number, digits = 4) => Number(value.toPrecision(digits));

/** Mean billed duration of an invocation: wall time rounded up to the millisecond. */
export const meanBilledMs = (usage: FunctionUsage | undefined) =>
  usage && usage.durationsMs.length ? usage.durationsMs.reduce((sum, ms) => sum + Math.max(1, Math.ceil(ms)), 0) / usage.durationsMs.length : 0;

export function costPerMessage(input: {
  usage: Usage;
  frames: FrameCounts;
  messages: number;
  lambdaMemoryMb: number;
  /** See {@link CostModel.scenario}. */
  scenario: string;
  /** Mean billed ms per invocation of each function; its source is stated in the result. */
  billedMs: Record<string, number>;
  lambdaDurationSource: string;
  /**
   * Where the billed ms come from, in a few words for each duration line (`at 2 msg/s`, `under this run's
   * load`): a duration measured under load grows with the load, and its line says so.
   */
  billedMsMeasured: string;
}): CostModel {
  const { usage, messages } = input;
  const lines: CostLine[] = [];
  const add = (key: string, item: string, total: number, unit: string, usdPerUnit: number) => {
    const perMessage = total / messages;
    lines.push({ key, item, perMessage: round(perMessage), unit, usdPerMillionMessages: round(perMessage * usdPerUnit * 1e6) });
  };

  add('api gateway messages', 'API Gateway WebSocket messages (client frames in and out, @connections posts included)', input.frames.units, 'messages', prices.apiGatewayWebSocketMessages.usd);

  for (const [id, fn] of Object.entries(usage.functions)) {
    const mb = memoryMbOf(id, input.lambdaMemoryMb);
    add(`lambda ${id} invocations`, `Lambda ${id} invocations`, fn!.invocations, 'invocations', prices.lambdaRequests.usd);
    add(`lambda ${id} duration`, `Lambda ${id} duration (${round(input.billedMs[id] ?? 0, 3)} ms billed each ${input.billedMsMeasured}, ${mb} MB)`, fn!.invocations * ((input.billedMs[id] ?? 0) / 1000) * (mb / 1024), 'GB-s', prices.lambdaArmGbSecond.usd);
  }

  for (const [table, t] of Object.entries(usage.tables)) {
    if (t.writeUnits) add(`dynamodb ${table} writes`, `DynamoDB ${table} writes (${round(t.writes / messages)} requests)`, t.writeUnits, 'WRU', prices.dynamoDbWriteRequestUnit.usd);
    const keys = t.batchKeys ? `, ${round(t.batchKeys / messages)} keys by BatchGetItem, each billed found or not` : '';
    if (t.readUnits) add(`dynamodb ${table} reads`, `DynamoDB ${table} reads (${round(t.reads / messages)} requests${keys})`, t.readUnits, 'RRU', prices.dynamoDbReadRequestUnit.usd);
  }

  // Each stream its own lines: a record is ingested by the stream it went to and read by that stream's fanout.
  for (const [stream, put] of Object.entries(usage.kinesis)) {
    const kinesisGb = put.billedKB / (1024 * 1024);
    add(`kinesis ${stream} ingest`, `Kinesis on-demand ingest, ${stream} stream (${round(put.records / messages)} records, ${Math.round(put.bytes / Math.max(1, put.records))} B each)`, kinesisGb, 'GB', prices.kinesisOnDemandIngestGb.usd);
    add(`kinesis ${stream} enhanced fan-out`, `Kinesis enhanced fan-out reads, ${stream} stream (its fanout's consumer)`, kinesisGb, 'GB', prices.kinesisEnhancedFanOutGb.usd);
  }

  return {
    scenario: input.scenario,
    messages,
    lambdaMemoryMb: input.lambdaMemoryMb,
    lambdaDurationSource: input.lambdaDurationSource,
    lines,
    usdPerMillionMessages: round(lines.reduce((sum, line) => sum + line.usdPerMillionMessages, 0)),
    usdPerAlwaysConnectedDeviceMonth: round(30 * 24 * 60 * prices.apiGatewayConnectionMinutes.usd),
  };
}

/**
 * What `full` adds to `baseline`, line by line (matched by {@link CostLine.key}; a line of one alone is
 * taken against zero), both priced per the same messages: the share of a path's cost that what differs
 * between the two runs is answerable for. A line measured from wall time (a duration) may come out
 * below zero when the baseline ran under more load.
 *
 * @example
 * // The group messages' share of a return: the return that found them less one that found nothing.
 * const share = costDifference(fullReturn, baselineReturn, 'what the group messages add to a return');
 */
export function costDifference(full: CostModel, baseline: CostModel, scenario: string): CostModel {
  const keyOf = (line: CostLine) => line.key ?? line.item;
  const before = new Map(baseline.lines.map((line) => [keyOf(line), line]));
  const keys = [...new Set([...full.lines.map(keyOf), ...before.keys()])];
  const after = new Map(full.lines.map((line) => [keyOf(line), line]));
  const lines = keys.map((key): CostLine => {
    const [added, base] = [after.get(key), before.get(key)];
    const line = (added ?? base)!;
    // The baseline's own figures where its item names them (its ms billed, its requests).
    const named = base && base.item !== line.item ? /\((.*)\)$/.exec(base.item)?.[1] : undefined;
    const less = base ? `${base.perMessage} ${base.unit}${named ? `; ${named}` : ''}` : 'nothing';
    return {
      key,
      item: `${line.item}, less the baseline's (${less})`,
      perMessage: round((added?.perMessage ?? 0) - (base?.perMessage ?? 0)),
      unit: line.unit,
      usdPerMillionMessages: round((added?.usdPerMillionMessages ?? 0) - (base?.usdPerMillionMessages ?? 0)),
    };
  });
  return { ...full, scenario, lines, usdPerMillionMessages: round(full.usdPerMillionMessages - baseline.usdPerMillionMessages) };
}

/** What a media message is taken to be: its blob, how long S3 keeps it and how many devices fetch it. */
export interface MediaAssumptions {
  /** Bytes of the stored blob (a file's padded, encrypted size). */
  readonly blobBytes: number;
  readonly describedAs: string;
  readonly retentionDays: number;
  /** Devices that download it once each: every device of the conversation but the sender's. */
  readonly downloadsPerMessage: number;
}

export interface MediaCostModel {
  readonly assumptions: MediaAssumptions;
  readonly lambdaMemoryMb: number;
  readonly formula: string;
  readonly lines: CostLine[];
  readonly usdPerMillionMessages: number;
}

/** S3 requests priced as GETs; every other S3 request is priced as a PUT. */
const S3_GET_CLASS = new Set(['GetObject', 'HeadObject']);
const GB = 1024 ** 3;
const DYNAMODB_ITEM_OVERHEAD_BYTES = 100;

/**
 * Dollars per million media messages: the measured AWS requests of one upload and of one download through
 * the local stack (`bench/media-transfer.ts`; the S3 requests the devices make through presigned URLs
 * included), times one upload and `downloadsPerMessage` downloads, plus storage for the retention and data
 * transfer out. The authorizer is counted as invoked on every request (its cache left off).
 */
export function costPerMediaMessage(input: {
  uploads: Usage;
  downloads: Usage;
  /** Uploads and downloads `uploads` and `downloads` were counted over. */
  rounds: number;
  assumptions: MediaAssumptions;
  lambdaMemoryMb: number;
}): MediaCostModel {
  const { assumptions: a, rounds } = input;
  const lines: CostLine[] = [];
  const add = (item: string, perMessage: number, unit: string, usdPerUnit: number) =>
    lines.push({ item, perMessage: round(perMessage), unit, usdPerMillionMessages: round(perMessage * usdPerUnit * 1e6) });
  // One upload per message, one download per receiving device.
  const phases = [
    { name: 'upload', usage: input.uploads, perMessage: 1 / rounds },
    { name: 'download', usage: input.downloads, perMessage: a.downloadsPerMessage / rounds },
  ];
  // The counter sees a presigned URL being signed (the presigner runs the client's middleware) and the
  // device uses each once: the PutObject and GetObject counted are the device's PUT and GETs.
  const s3Requests = (getClass: boolean) =>
    phases.reduce(
      (sum, phase) =>
        sum +
        Object.entries(phase.usage.requests)
          .filter(([key]) => key.startsWith('s3 ') && S3_GET_CLASS.has(key.slice(3)) === getClass)
          .reduce((phaseSum, [, count]) => phaseSum + count, 0) * phase.perMessage,
      0,
    );
  add('S3 PUT-class requests (the presigned PUT)', s3Requests(false), 'requests', prices.s3PutRequests.usd);
  add('S3 GET-class requests (a HEAD and a presigned GET per download)', s3Requests(true), 'requests', prices.s3GetRequests.usd);
  const blobGb = a.blobBytes / GB;
  add(`S3 Standard storage, ${a.retentionDays} days`, blobGb * (a.retentionDays / 30), 'GB-months', prices.s3StandardStorageGbMonth.usd);
  add(`Data transfer out, ${a.downloadsPerMessage} downloads`, blobGb * a.downloadsPerMessage, 'GB', prices.dataTransferOutGb.usd);

  let httpRequests = 0;
  for (const phase of phases) {
    for (const [id, fn] of Object.entries(phase.usage.functions)) {
      const invocations = fn!.invocations * phase.perMessage;
      // The authorizer runs inside a request the route's own function already stands for.
      if (id !== 'httpAuthorizer') httpRequests += invocations;
      const billedMs = meanBilledMs(fn);
      const mb = memoryMbOf(id, input.lambdaMemoryMb);
      add(`Lambda ${id} invocations at ${phase.name}`, invocations, 'invocations', prices.lambdaRequests.usd);
      add(`Lambda ${id} duration at ${phase.name} (${round(billedMs, 3)} ms billed each, ${mb} MB)`, invocations * (billedMs / 1000) * (mb / 1024), 'GB-s', prices.lambdaArmGbSecond.usd);
    }
  }
  // Every media route is an HTTP API route backed by one function: one request per invocation.
  add('API Gateway HTTP API requests', httpRequests, 'requests', prices.apiGatewayHttpRequests.usd);

  for (const phase of phases) {
    for (const [table, t] of Object.entries(phase.usage.tables)) {
      if (t.writeUnits) add(`DynamoDB ${table} writes at ${phase.name} (${round(t.writes * phase.perMessage)} requests)`, t.writeUnits * phase.perMessage, 'WRU', prices.dynamoDbWriteRequestUnit.usd);
      if (t.readUnits) add(`DynamoDB ${table} reads at ${phase.name} (${round(t.reads * phase.perMessage)} requests)`, t.readUnits * phase.perMessage, 'RRU', prices.dynamoDbReadRequestUnit.usd);
    }
  }

  // The digest index keeps one item per blob as long as the blob lives.
  const digestItemBytes = input.uploads.tables.mediaDigests?.maxItemBytes ?? 0;
  if (digestItemBytes) {
    add(
      `DynamoDB mediaDigests item stored ${a.retentionDays} days (${digestItemBytes} B + 100 B overhead)`,
      ((digestItemBytes + DYNAMODB_ITEM_OVERHEAD_BYTES) / GB) * (a.retentionDays / 30),
      'GB-months',
      prices.dynamoDbStorageGbMonth.usd,
    );
  }

  return {
    assumptions: a,
    lambdaMemoryMb: input.lambdaMemoryMb,
    formula:
      'storage = blob GB × retention days / 30 × $/GB-month; transfer out = blob GB × downloads × $/GB; ' +
      'S3 requests, Lambda, HTTP API and DynamoDB = measured per upload + measured per download × downloads',
    lines,
    usdPerMillionMessages: round(lines.reduce((sum, line) => sum + line.usdPerMillionMessages, 0)),
  };
}
