/**
 * From what one window of the 1:1 scenario used to dollars per million messages: every count divided by
 * the messages sent in the window, times the list prices of `prices.ts`.
 */
import type { FrameCounts } from './device';
import { prices } from './prices';
import type { FunctionUsage, Usage } from './request-counter';

export interface CostLine {
  readonly item: string;
  /** Billed units per message sent. */
  readonly perMessage: number;
  readonly unit: string;
  readonly usdPerMillionMessages: number;
}

export interface CostModel {
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
  /** Mean billed ms per invocation of each function; its source is stated in the result. */
  billedMs: Record<string, number>;
  lambdaDurationSource: string;
}): CostModel {
  const { usage, messages } = input;
  const lines: CostLine[] = [];
  const add = (item: string, total: number, unit: string, usdPerUnit: number) => {
    const perMessage = total / messages;
    lines.push({ item, perMessage: round(perMessage), unit, usdPerMillionMessages: round(perMessage * usdPerUnit * 1e6) });
  };

  add('API Gateway WebSocket messages (client frames in and out, @connections posts included)', input.frames.units, 'messages', prices.apiGatewayWebSocketMessages.usd);

  const gb = input.lambdaMemoryMb / 1024;
  for (const [id, fn] of Object.entries(usage.functions)) {
    add(`Lambda ${id} invocations`, fn!.invocations, 'invocations', prices.lambdaRequests.usd);
    add(`Lambda ${id} duration (${round(input.billedMs[id] ?? 0, 3)} ms billed each, ${input.lambdaMemoryMb} MB)`, fn!.invocations * ((input.billedMs[id] ?? 0) / 1000) * gb, 'GB-s', prices.lambdaArmGbSecond.usd);
  }

  for (const [table, t] of Object.entries(usage.tables)) {
    if (t.writeUnits) add(`DynamoDB ${table} writes (${round(t.writes / messages)} requests)`, t.writeUnits, 'WRU', prices.dynamoDbWriteRequestUnit.usd);
    if (t.readUnits) add(`DynamoDB ${table} reads (${round(t.reads / messages)} requests)`, t.readUnits, 'RRU', prices.dynamoDbReadRequestUnit.usd);
  }

  const kinesisGb = usage.kinesis.billedKB / (1024 * 1024);
  add(`Kinesis on-demand ingest (${round(usage.kinesis.records / messages)} records, ${Math.round(usage.kinesis.bytes / Math.max(1, usage.kinesis.records))} B each)`, kinesisGb, 'GB', prices.kinesisOnDemandIngestGb.usd);
  add('Kinesis enhanced fan-out reads (the fanout consumer)', kinesisGb, 'GB', prices.kinesisEnhancedFanOutGb.usd);

  return {
    messages,
    lambdaMemoryMb: input.lambdaMemoryMb,
    lambdaDurationSource: input.lambdaDurationSource,
    lines,
    usdPerMillionMessages: round(lines.reduce((sum, line) => sum + line.usdPerMillionMessages, 0)),
    usdPerAlwaysConnectedDeviceMonth: round(30 * 24 * 60 * prices.apiGatewayConnectionMinutes.usd),
  };
}
