import { RequestCounter, type Usage } from '../../bench/request-counter';

/** An SDK client of the class `className` as far as the counter sees it: its middleware is kept to be run by the test. */
function fakeClient(className: 'DynamoDBClient' | 'KinesisClient') {
  const middleware: { step: string; run: (next: (args: any) => Promise<any>, context: { commandName: string }) => (args: any) => Promise<any> }[] = [];
  const Client = {
    [className]: class {
      readonly middlewareStack = { add: (run: (typeof middleware)[number]['run'], options: { step: string }) => middleware.push({ step: options.step, run }) };
    },
  }[className]!;
  const client = new Client();
  /** Sends a command through the counter's build-step middleware; resolves when `answer` is called. */
  const send = (commandName: string, input: unknown) => {
    let answer!: (output: unknown) => void;
    const answered = new Promise((resolve) => (answer = resolve));
    const done = middleware.find((m) => m.step === 'build')!.run(async () => ({ output: await answered }), { commandName })({ input });
    return { answer, done };
  };
  return { client, send, middleware };
}

describe('RequestCounter across function threads', () => {
  it('drain hands over what was counted; a request in flight meanwhile counts in the next drain, not in a report already sent', async () => {
    const counter = new RequestCounter();
    const { client, send } = fakeClient('DynamoDBClient');
    counter.instrument(client);
    const put = send('PutItemCommand', { TableName: 'queues', Item: { device: { S: 'a' } } });
    const first = counter.drain();
    expect(first.requests).toEqual({ 'dynamodb PutItem': 1 });
    expect(first.tables).toEqual({});
    put.answer({ ConsumedCapacity: { CapacityUnits: 2 } });
    await put.done;
    const second = counter.drain();
    expect(second.requests).toEqual({});
    expect(second.tables.queues).toMatchObject({ writes: 1, writeUnits: 2 });
  });

  it('counts records by the stream they went to, by its id once named, so each is priced apart', async () => {
    const counter = new RequestCounter();
    counter.nameStreams({ messages: 'parley-local-messages', groupMessages: 'parley-local-groupMessages' });
    const { client, send } = fakeClient('KinesisClient');
    counter.instrument(client);
    const put = (StreamName: string, bytes: number) => {
      const sent = send('PutRecordCommand', { StreamName, PartitionKey: 'k', Data: new Uint8Array(bytes - 1) });
      sent.answer({});
      return sent.done;
    };
    await Promise.all([put('parley-local-messages', 100), put('parley-local-groupMessages', 2048), put('parley-local-groupMessages', 100)]);
    expect(counter.take().kinesis).toEqual({
      messages: { records: 1, bytes: 100, payloadUnits25KB: 1, billedKB: 1 },
      groupMessages: { records: 2, bytes: 2148, payloadUnits25KB: 2, billedKB: 3 },
    });
  });

  it('add sums a thread’s counts into its own', () => {
    const counter = new RequestCounter();
    const fromThread = (writeUnits: number, maxItemBytes: number): Usage => ({
      requests: { 'dynamodb PutItem': 1, 'connections PostToConnection': 2 },
      excludedPollerRequests: 0,
      tables: { queues: { reads: 0, writes: 1, readUnits: 0, writeUnits, maxItemBytes } },
      kinesis: { messages: { records: 1, bytes: 100, payloadUnits25KB: 1, billedKB: 1 } },
      connections: { posts: 2, bytes: 50 },
      functions: {},
    });
    counter.add(fromThread(1, 300));
    counter.add(fromThread(2, 200));
    const usage = counter.take();
    expect(usage.requests).toEqual({ 'dynamodb PutItem': 2, 'connections PostToConnection': 4 });
    expect(usage.tables.queues).toEqual({ reads: 0, writes: 2, readUnits: 0, writeUnits: 3, maxItemBytes: 300 });
    expect(usage.kinesis).toEqual({ messages: { records: 2, bytes: 200, payloadUnits25KB: 2, billedKB: 2 } });
    expect(usage.connections).toEqual({ posts: 4, bytes: 100 });
  });

  it('bills every key a BatchGetItem asked for, found or not, and counts keys left unprocessed when asked again', async () => {
    const counter = new RequestCounter();
    const { client, send } = fakeClient('DynamoDBClient');
    counter.instrument(client);
    const key = (deviceId: number) => ({ userId: 'u', deviceId });
    const first = send('BatchGetItemCommand', { RequestItems: { devices: { Keys: [key(1), key(2), key(3), key(4)] } } });
    // One found, one missing (billed all the same), two left unprocessed.
    first.answer({ Responses: { devices: [{ userId: 'u', deviceId: 1 }] }, UnprocessedKeys: { devices: { Keys: [key(3), key(4)] } } });
    await first.done;
    const again = send('BatchGetItemCommand', { RequestItems: { devices: { Keys: [key(3), key(4)], ConsistentRead: true } } });
    again.answer({ Responses: { devices: [{ userId: 'u', deviceId: 3 }] } });
    await again.done;
    expect(counter.take().tables.devices).toMatchObject({ reads: 2, batchKeys: 4, readUnits: 0.5 + 0.5 + 1 + 1 });
  });

  it('bills a projected read by the whole items, as the emulator reports them, not by the attributes it returned', async () => {
    const counter = new RequestCounter();
    const { client, send, middleware } = fakeClient('DynamoDBClient');
    counter.instrument(client);
    // Every read asks for the capacity it consumed.
    const serialize = middleware.find((m) => m.step === 'serialize')!;
    for (const commandName of ['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand']) {
      const sent = await serialize.run(async (args) => args, { commandName })({ input: { TableName: 'groups' } });
      expect(sent.input).toMatchObject({ ReturnConsumedCapacity: 'TOTAL' });
    }
    // One member's entry of a ~130 KB group item: a few bytes returned, 33 units billed.
    const get = send('GetItemCommand', { TableName: 'groups', Key: { groupId: 'g' }, ConsistentRead: true, ProjectionExpression: '#version, members.#user' });
    get.answer({ Item: { version: 1, members: { u: { role: 'member' } } }, ConsumedCapacity: { TableName: 'groups', CapacityUnits: 33 } });
    await get.done;
    const cursors = send('BatchGetItemCommand', { RequestItems: { groupDelivery: { Keys: [{ conversationId: 'c', userId: 'u' }], ConsistentRead: true, ProjectionExpression: 'cursor1' } } });
    cursors.answer({ Responses: { groupDelivery: [{ cursor1: 'p' }] }, ConsumedCapacity: [{ TableName: 'groupDelivery', CapacityUnits: 2 }] });
    await cursors.done;
    // Unprojected, a read is sized by what it returned, as before (the emulator sizes items a little differently).
    const whole = send('GetItemCommand', { TableName: 'groups', Key: { groupId: 'h' }, ConsistentRead: true });
    whole.answer({ Item: { groupId: 'h', version: 1 }, ConsumedCapacity: { TableName: 'groups', CapacityUnits: 2 } });
    await whole.done;
    const usage = counter.take();
    expect(usage.tables.groups).toMatchObject({ reads: 2, readUnits: 33 + 1 });
    expect(usage.tables.groupDelivery).toMatchObject({ reads: 1, readUnits: 2 });
  });
});

describe('RequestCounter.intercept', () => {
  it('times every invocation’s wall time and only the group fan-out’s CPU (the report’s only CPU figure)', async () => {
    const counter = new RequestCounter();
    const cpuUsage = jest.spyOn(process, 'cpuUsage');
    try {
      await counter.intercept('send', async () => 'sent')({});
      expect(cpuUsage).not.toHaveBeenCalled();
      await counter.intercept('groupFanout', async () => 'fanned out')({ Records: [{}, {}] });
      expect(cpuUsage).toHaveBeenCalledTimes(2);
    } finally {
      cpuUsage.mockRestore();
    }
    const { functions } = counter.take();
    expect(functions.send).toMatchObject({ invocations: 1, cpuMs: [], errors: 0 });
    expect(functions.send!.durationsMs).toHaveLength(1);
    expect(functions.groupFanout).toMatchObject({ invocations: 1, records: 2 });
    expect(functions.groupFanout!.cpuMs).toHaveLength(1);
  });
});
