/**
 * `npm run smoke` against the local stack, as CI runs it: the test starts the stack, asks for both
 * verification codes and reads them from the SMS the local SNS endpoint recorded (the one local-only part,
 * kept out of the smoke tool), then runs the tool's steps over the stack's URLs alone.
 */
import { ParleyClient } from '../../client';
import { startParleyLocal, type ParleyLocal, type ParleyLocalOptions } from '../../local/runtime';
import { runSmoke, STEP_COUNT, type SmokeStep } from '../../bin/smoke';

let parley: ParleyLocal;

async function codeFor(phoneNumber: string): Promise<string> {
  const since = Date.now();
  await ParleyClient.requestVerificationCode(parley, phoneNumber);
  const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber && d.at >= since, 5000);
  return /(\d{6})/.exec(sms.message)![1]!;
}

// The same chat whichever way the SDK clients reach the emulators: the local runtime's default (handed to
// them in process), the SDK's own HTTP handler over loopback, the emulators on a thread of their own, and the
// handlers on worker threads (reaching the emulators and the gateway through ports).
const ways: [string, ParleyLocalOptions][] = [
  ['AWS requests handed to the emulators in process', {}],
  ['AWS requests over loopback HTTP', { awsTransport: 'loopback' }],
  ['DynamoDB and Kinesis on their own thread', { emulatorThread: true }],
  ['function invocations on worker threads too', { emulatorThread: true, functionThreads: 2 }],
  ['function invocations on worker threads, the emulators on the main thread', { functionThreads: 1 }],
  ['function invocations on worker threads, their AWS requests over loopback HTTP', { awsTransport: 'loopback', functionThreads: 1 }],
];

describe.each(ways)('%s', (_way, options) => {
  beforeAll(async () => {
    parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, ...options });
  });
  afterAll(async () => {
    await parley?.stop();
  });

  it('runs the smoke chat against the local stack: every step passes', async () => {
    const accounts = [
      { phoneNumber: '+14155550981', code: await codeFor('+14155550981') },
      { phoneNumber: '+14155550982', code: await codeFor('+14155550982') },
    ] as const;
    const logged: SmokeStep[] = [];
    const result = await runSmoke({ httpUrl: parley.httpUrl, webSocketUrl: parley.webSocketUrl, accounts, log: (step) => logged.push(step) });

    expect(result.steps.filter((step) => !step.passed)).toEqual([]);
    expect(result.passed).toBe(true);
    expect(result.steps).toHaveLength(STEP_COUNT);
    expect(logged).toEqual(result.steps);
    expect(result.steps.map((step) => step.name)).toEqual([
      'register Alice and connect',
      'register Bob and connect',
      'Alice sends Bob a message: ACK (one tick)',
      'Bob receives and decrypts it',
      'Alice gets delivered (two ticks)',
      'Bob marks it read: Alice gets read (blue ticks)',
      'Bob disconnects; Alice sends two more: ACKed',
      'Bob reconnects and gets both by SYNC, in order',
      'Alice gets delivered for both',
    ]);
  }, 30_000);
});

describe('a failing step', () => {
  beforeAll(async () => {
    parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0 });
  });
  afterAll(async () => {
    await parley?.stop();
  });

  it('reports a failed step and stops there: a wrong code fails registration', async () => {
    const result = await runSmoke({
      httpUrl: parley.httpUrl,
      webSocketUrl: parley.webSocketUrl,
      accounts: [
        { phoneNumber: '+14155550983', code: '000000' },
        { phoneNumber: '+14155550984', code: '000000' },
      ],
    });
    expect(result.passed).toBe(false);
    expect(result.steps).toEqual([{ name: 'register Alice and connect', passed: false, ms: expect.any(Number), error: expect.any(String) }]);
  });
});
