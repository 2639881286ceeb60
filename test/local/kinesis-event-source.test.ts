import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisStreamEvent as ConsumerKinesisEvent } from '../../lambdas/runtime/stream-events';
import { AwsKinesisStreamEvent, parseAsAwsAndHandlers } from '../support/aws-event-schemas';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createClients } from '../../lambdas/runtime/clients';
import { startAwsEmulators, type AwsEmulators } from '../../local/aws-emulators';
import {
  startKinesisEventSource,
  type KinesisBatchFailure,
  type KinesisEventSource,
  type KinesisEventSourceOptions,
} from '../../local/kinesis-event-source';
import { ensureStream } from '../../local/resources/stream';
import { laneOfKey as laneOf } from '../../local/kinesis/concurrent-batches';

interface Payload {
  readonly key: string;
  readonly n: number;
  readonly poison?: boolean;
}

const payloadOf = (record: KinesisStreamRecord): Payload =>
  JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as Payload;
const numbersOf = (event: KinesisStreamEvent) => event.Records.map((record) => payloadOf(record).n);
const waitFor = async (condition: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('kinesisEventSource', () => {
  let emulators: AwsEmulators;
  let kinesis: KinesisClient;
  let streams = 0;
  const running: KinesisEventSource[] = [];

  beforeAll(async () => {
    emulators = await startAwsEmulators({ log: () => undefined });
    const { endpoints, credentials } = emulators;
    kinesis = createClients({ region: 'us-east-1', endpoints, credentials }).kinesis;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((source) => source.stop()));
  });
  afterAll(async () => {
    kinesis.destroy();
    await emulators.stop();
  });

  const newStream = async (shards: number) => {
    const streamName = `events-${++streams}`;
    await ensureStream(kinesis, streamName, shards);
    return streamName;
  };
  const put = async (streamName: string, payloads: readonly Payload[]) => {
    for (let start = 0; start < payloads.length; start += 100) {
      const Records = payloads.slice(start, start + 100).map((payload) => ({
        PartitionKey: payload.key,
        Data: Buffer.from(JSON.stringify(payload)),
      }));
      const { FailedRecordCount } = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records }));
      expect(FailedRecordCount).toBe(0);
    }
  };
  const start = async (options: Omit<KinesisEventSourceOptions, 'kinesis'>) => {
    const source = await startKinesisEventSource({ kinesis, puts: emulators.kinesisPuts, retryDelayMs: 1, ...options });
    running.push(source);
    return source;
  };
  const tenRecords = (poisonAt?: number) =>
    Array.from({ length: 10 }, (_, n) => ({ key: 'one', n, ...(n === poisonAt && { poison: true }) }));

  it('keeps per-partition-key order across shards, one batch in flight per shard', async () => {
    const streamName = await newStream(4);
    const keys = Array.from({ length: 20 }, (_, index) => `conversation-${index}`);
    const seen = new Map<string, number[]>();
    const inFlight = new Map<string, number>();
    let mostInFlightOnAShard = 0;
    const shards = new Set<string>();
    const source = await start({
      streamName,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 25,
      handler: async (event) => {
        const shardId = event.Records[0]!.eventID.split(':')[0]!;
        shards.add(shardId);
        inFlight.set(shardId, (inFlight.get(shardId) ?? 0) + 1);
        mostInFlightOnAShard = Math.max(mostInFlightOnAShard, inFlight.get(shardId)!);
        expect(event.Records.length).toBeLessThanOrEqual(25);
        await new Promise((resolve) => setTimeout(resolve, 1));
        for (const record of event.Records) {
          const { key, n } = payloadOf(record);
          seen.set(key, [...(seen.get(key) ?? []), n]);
        }
        inFlight.set(shardId, inFlight.get(shardId)! - 1);
      },
    });

    await put(streamName, Array.from({ length: 15 }, (_, n) => keys.map((key) => ({ key, n }))).flat());
    await source.drain();

    for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: 15 }, (_, n) => n));
    expect(shards.size).toBeGreaterThan(1);
    expect(mostInFlightOnAShard).toBe(1);
  });

  describe('with a parallelization factor', () => {
    /** Keys that all land on the single shard of a one-shard stream, so they share its concurrent batches. */
    const keys = Array.from({ length: 12 }, (_, index) => `conversation-${index}`);

    it('lets other keys of the shard pass a slow batch, keeping each key in order and never two batches of one key at once', async () => {
      const streamName = await newStream(1);
      let releaseSlow!: () => void;
      const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
      const seen = new Map<string, number[]>();
      const keysInFlight = new Set<string>();
      let keyInTwoBatches = false;
      let mostInFlight = 0;
      let inFlight = 0;
      const source = await start({
        streamName,
        startingPosition: 'TRIM_HORIZON',
        parallelizationFactor: 4,
        batchSize: 5,
        handler: async (event) => {
          const batchKeys = new Set(event.Records.map((record) => payloadOf(record).key));
          for (const key of batchKeys) {
            if (keysInFlight.has(key)) keyInTwoBatches = true;
            keysInFlight.add(key);
          }
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          // The first record of the slow key holds its batch until the others are all through.
          if (event.Records.some((record) => payloadOf(record).key === 'slow' && payloadOf(record).n === 0)) await slowReleased;
          else await new Promise((resolve) => setTimeout(resolve, 1));
          for (const record of event.Records) {
            const { key, n } = payloadOf(record);
            seen.set(key, [...(seen.get(key) ?? []), n]);
          }
          for (const key of batchKeys) keysInFlight.delete(key);
          inFlight--;
        },
      });

      await put(streamName, [{ key: 'slow', n: 0 }, ...Array.from({ length: 5 }, (_, n) => keys.map((key) => ({ key, n }))).flat(), { key: 'slow', n: 1 }]);
      // Every key that does not share the slow key's batches gets through while it is held.
      const others = keys.filter((key) => laneOf(key, 4) !== laneOf('slow', 4));
      expect(others.length).toBeGreaterThan(0);
      try {
        await waitFor(() => others.every((key) => seen.get(key)?.length === 5));
        expect(seen.get('slow')).toBeUndefined();
      } finally {
        releaseSlow();
      }
      await source.drain();

      for (const key of keys) expect(seen.get(key)).toEqual([0, 1, 2, 3, 4]);
      expect(seen.get('slow')).toEqual([0, 1]);
      expect(keyInTwoBatches).toBe(false);
      expect(mostInFlight).toBeGreaterThan(1);
      expect(mostInFlight).toBeLessThanOrEqual(4);
    });

    it('checkpoints only up to the earliest record not yet settled', async () => {
      const streamName = await newStream(1);
      let releaseSlow!: () => void;
      const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
      const checkpoints: string[] = [];
      const handled: string[] = [];
      const source = await start({
        streamName,
        startingPosition: 'TRIM_HORIZON',
        parallelizationFactor: 10,
        checkpoints: { lastSettled: () => undefined, settled: async (_shardId, sequenceNumber) => void checkpoints.push(sequenceNumber) },
        handler: async (event) => {
          if (event.Records.some((record) => payloadOf(record).key === 'slow')) await slowReleased;
          handled.push(...event.Records.map((record) => record.kinesis.sequenceNumber));
        },
      });

      await put(streamName, [{ key: 'first', n: 0 }]);
      await source.drain();
      const [first] = handled;
      await put(streamName, [{ key: 'slow', n: 1 }, ...keys.map((key, n) => ({ key, n: n + 2 }))]);
      const passing = keys.filter((key) => laneOf(key, 10) !== laneOf('slow', 10)).length;
      try {
        await waitFor(() => handled.length === 1 + passing);
        // Records after the slow one are done, but a restart must hand the slow one over again.
        expect(checkpoints).toEqual([first]);
      } finally {
        releaseSlow();
      }
      await source.drain();

      expect(handled).toHaveLength(2 + keys.length);
      expect(checkpoints.at(-1)).toBe([...handled].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).at(-1));
    });

    it('retries and bisects a failing batch while the other keys go on, and hands the poison record to onFailure', async () => {
      const streamName = await newStream(1);
      const failures: KinesisBatchFailure[] = [];
      const handled = new Map<string, number[]>();
      const source = await start({
        streamName,
        startingPosition: 'TRIM_HORIZON',
        parallelizationFactor: 3,
        retryAttempts: 1,
        bisectBatchOnError: true,
        onFailure: async (failure) => void failures.push(failure),
        handler: async (event) => {
          if (event.Records.some((record) => payloadOf(record).poison)) throw new Error('poison');
          for (const record of event.Records) {
            const { key, n } = payloadOf(record);
            handled.set(key, [...(handled.get(key) ?? []), n]);
          }
        },
      });

      await put(streamName, [...tenRecords(6), ...keys.map((key) => ({ key, n: 0 }))]);
      await source.drain();

      expect(handled.get('one')).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9]);
      for (const key of keys) expect(handled.get(key)).toEqual([0]);
      expect(failures.map((failure) => failure.records.map((record) => payloadOf(record).n))).toEqual([[6]]);
    });

    it('refuses a factor Lambda would refuse', async () => {
      const streamName = await newStream(1);
      await expect(start({ streamName, startingPosition: 'LATEST', parallelizationFactor: 11, handler: async () => undefined })).rejects.toThrow(
        'parallelization must be an integer from 1 to 10, not 11',
      );
    });
  });

  it('retries a failed batch, bisecting it, and hands a poison record to onFailure', async () => {
    const streamName = await newStream(1);
    await put(streamName, tenRecords(6));
    const batches: number[][] = [];
    const handled: number[] = [];
    const failures: KinesisBatchFailure[] = [];
    const source = await start({
      streamName,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
      retryAttempts: 2,
      bisectBatchOnError: true,
      onFailure: async (failure) => void failures.push(failure),
      handler: async (event) => {
        batches.push(numbersOf(event));
        if (event.Records.some((record) => payloadOf(record).poison)) throw new Error('poison');
        handled.push(...numbersOf(event));
      },
    });

    await source.drain();

    // Halves until the poison record is alone; then it is tried once and retried twice.
    expect(batches.map((batch) => batch.length)).toEqual([10, 5, 5, 3, 2, 1, 1, 1, 1, 1, 2]);
    expect(handled).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ shardId: 'shardId-000000000000', error: { message: 'poison' } });
    expect(failures[0]!.records.map((record) => payloadOf(record).n)).toEqual([6]);
  });

  it('without bisecting, retries the whole batch, hands it to onFailure and moves on', async () => {
    const streamName = await newStream(1);
    await put(streamName, tenRecords(6).slice(4, 7));
    const batches: number[][] = [];
    const failures: KinesisBatchFailure[] = [];
    const source = await start({
      streamName,
      startingPosition: 'TRIM_HORIZON',
      retryAttempts: 1,
      onFailure: async (failure) => void failures.push(failure),
      handler: async (event) => {
        batches.push(numbersOf(event));
        if (event.Records.some((record) => payloadOf(record).poison)) throw new Error('poison');
      },
    });
    await source.drain();
    await put(streamName, [{ key: 'one', n: 10 }]);
    await source.drain();

    expect(batches).toEqual([[4, 5, 6], [4, 5, 6], [10]]);
    expect(failures.map((failure) => failure.records.map((record) => payloadOf(record).n))).toEqual([[4, 5, 6]]);
  });

  it('honours batchItemFailures by resuming from the earliest failed record', async () => {
    const streamName = await newStream(1);
    await put(streamName, tenRecords());
    const batches: number[][] = [];
    const source = await start({
      streamName,
      startingPosition: 'TRIM_HORIZON',
      reportBatchItemFailures: true,
      handler: async (event) => {
        batches.push(numbersOf(event));
        const failed = batches.length === 1 ? [event.Records[7]!, event.Records[3]!] : [];
        return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.kinesis.sequenceNumber })) };
      },
    });

    await source.drain();

    expect(batches).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [3, 4, 5, 6, 7, 8, 9],
    ]);
  });

  it('hands the records from the failed one on to onFailure once batchItemFailures retries run out', async () => {
    const streamName = await newStream(1);
    await put(streamName, tenRecords());
    const batches: number[][] = [];
    const failures: KinesisBatchFailure[] = [];
    const source = await start({
      streamName,
      startingPosition: 'TRIM_HORIZON',
      reportBatchItemFailures: true,
      retryAttempts: 1,
      onFailure: async (failure) => void failures.push(failure),
      handler: async (event) => {
        batches.push(numbersOf(event));
        const seven = event.Records.find((record) => payloadOf(record).n === 7)!;
        return { batchItemFailures: [{ itemIdentifier: seven.kinesis.sequenceNumber }] };
      },
    });

    await source.drain();

    expect(batches).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [7, 8, 9],
    ]);
    expect(failures.map((failure) => failure.records.map((record) => payloadOf(record).n))).toEqual([[7, 8, 9]]);
  });

  it('builds events that parse with the Powertools Kinesis schema and the consumers\' own', async () => {
    const streamName = await newStream(1);
    const events: KinesisStreamEvent[] = [];
    const source = await start({
      streamName,
      startingPosition: 'TRIM_HORIZON',
      handler: async (event) => void events.push(event),
    });
    const putAt = Date.now() / 1000;

    await put(streamName, [{ key: 'conversation-1', n: 1 }]);
    await source.drain();

    const ours = parseAsAwsAndHandlers(AwsKinesisStreamEvent, ConsumerKinesisEvent, events[0]);
    expect(JSON.parse(ours.Records[0]!.kinesis.data)).toEqual({ key: 'conversation-1', n: 1 });
    const parsed = AwsKinesisStreamEvent.parse(events[0]);
    const [record] = parsed.Records;
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventName: 'aws:kinesis:record',
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/parley-local-event-source',
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'conversation-1', data: { key: 'conversation-1', n: 1 } },
    });
    expect(record!.eventID).toBe(`shardId-000000000000:${record!.kinesis.sequenceNumber}`);
    expect(record!.kinesis.approximateArrivalTimestamp).toBeGreaterThanOrEqual(Math.floor(putAt));
    expect(record!.kinesis.approximateArrivalTimestamp).toBeLessThan(putAt + 5);
  });

  it('starting at LATEST, hands over only what is put after the start', async () => {
    const streamName = await newStream(2);
    await put(streamName, [{ key: 'a', n: 1 }]);
    const handled: number[] = [];
    const source = await start({
      streamName,
      startingPosition: 'LATEST',
      handler: async (event) => void handled.push(...numbersOf(event)),
    });

    await put(streamName, [{ key: 'a', n: 2 }]);
    await source.drain();

    expect(handled).toEqual([2]);
  });

  it('is woken by a put on a shard, without waiting for its next poll', async () => {
    const streamName = await newStream(4);
    let handled!: (n: number[]) => void;
    const firstBatch = new Promise<number[]>((resolve) => (handled = resolve));
    await start({
      streamName,
      startingPosition: 'LATEST',
      idlePollMs: 60_000,
      handler: async (event) => handled(numbersOf(event)),
    });
    // Let every shard go idle, so only the put can wake its reader.
    await new Promise((resolve) => setTimeout(resolve, 20));

    await put(streamName, [{ key: 'conversation-7', n: 7 }]);

    await expect(firstBatch).resolves.toEqual([7]);
  });

  it('after a batch short of the limit reads its shard again only when a record is put, not once more at once', async () => {
    const streamName = await newStream(1);
    const counted = createClients({ region: 'us-east-1', endpoints: emulators.endpoints, credentials: emulators.credentials }).kinesis;
    let reads = 0;
    counted.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'GetRecordsCommand') reads++;
        return next(args);
      },
      { step: 'initialize' },
    );
    const batches: number[][] = [];
    let batchHandled = () => undefined as void;
    const source = await startKinesisEventSource({
      kinesis: counted,
      streamName,
      startingPosition: 'LATEST',
      puts: emulators.kinesisPuts,
      idlePollMs: 60_000,
      batchSize: 10,
      handler: async (event) => {
        batches.push(numbersOf(event));
        batchHandled();
      },
    });
    running.push(source);
    const handledNext = () => new Promise<void>((resolve) => (batchHandled = resolve));
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      await pause(20);
      const readsBefore = reads;

      let handled = handledNext();
      await put(streamName, [{ key: 'a', n: 1 }]);
      await handled;
      await pause(100);
      expect(reads - readsBefore).toBe(1);

      // The next put still wakes it at once; a full batch is followed by a read at once, for the rest.
      handled = handledNext();
      await put(streamName, Array.from({ length: 15 }, (_, n) => ({ key: 'a', n: 10 + n })));
      await handled;
      await source.drain();
      expect(batches.flat()).toEqual([1, ...Array.from({ length: 15 }, (_, n) => 10 + n)]);
    } finally {
      counted.destroy();
    }
  });

  it('without a put feed, finds new records by polling every idlePollMs', async () => {
    const streamName = await newStream(2);
    const handled: number[] = [];
    const source = await start({
      streamName,
      startingPosition: 'LATEST',
      puts: undefined,
      idlePollMs: 2,
      handler: async (event) => void handled.push(...numbersOf(event)),
    });

    await put(streamName, [{ key: 'a', n: 1 }, { key: 'b', n: 2 }]);
    await source.drain();

    expect(handled.sort()).toEqual([1, 2]);
  });

  it('stops after the batch in flight has settled, and invokes nothing after', async () => {
    const streamName = await newStream(1);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let announceStart!: () => void;
    const started = new Promise<void>((resolve) => (announceStart = resolve));
    const invocations: number[][] = [];
    let finished = false;
    const source = await start({
      streamName,
      startingPosition: 'TRIM_HORIZON',
      handler: async (event) => {
        invocations.push(numbersOf(event));
        announceStart();
        await released;
        finished = true;
      },
    });
    await put(streamName, [{ key: 'a', n: 1 }]);
    await started;

    const stopped = source.stop();
    release();
    await stopped;
    expect(finished).toBe(true);
    await put(streamName, [{ key: 'a', n: 2 }]);
    await new Promise((resolve) => setTimeout(resolve, 30));

    expect(invocations).toEqual([[1]]);
  });
});
