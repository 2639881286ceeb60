import os from 'node:os';
import path from 'node:path';

/** The bench's flags: `npm run bench -- --rate 50 --seconds 10 --pairs 10 ...`. */
export interface BenchOptions {
  /** Offered rate of the fixed-rate run, messages per second. */
  readonly rate: number;
  /** Length of the fixed-rate run, seconds. */
  readonly seconds: number;
  /** Conversations (sender/recipient user pairs, 2 devices each) the load is spread over. */
  readonly pairs: number;
  /** Rates the step-up tries, in order; it stops at the first that does not hold. */
  readonly steps: readonly number[];
  /** Length of each step, seconds. */
  readonly stepSeconds: number;
  /** The step-up starts no step that would end past this many seconds after the step-up started. */
  readonly budgetSeconds: number;
  /**
   * Seconds of messages at 20 msg/s before anything is measured, so that the figures are of a running
   * server's compiled code, not a just-started one's (after ~200 messages a message takes about a third
   * less CPU than after 20).
   */
  readonly warmupSeconds: number;
  /** Latency a rate must keep its p99 under to hold, ms. */
  readonly p99LimitMs: number;
  /**
   * Seconds of the low-rate run (0 skips it), at `lowRate` msg/s: SEND → PUSH at a rate a person might
   * send, over enough PUSHes (200 at 5 msg/s for 20 s) that its p99 is not simply the slowest one.
   */
  readonly lowRateSeconds: number;
  readonly lowRate: number;
  /** Messages queued for the offline device of the SYNC run. */
  readonly syncMessages: number;
  /** Session setups the client SDK's crypto figure times (0 skips the SDK figures). */
  readonly sdkSessions: number;
  /** 1:1 messages of 200 bytes the SDK's per-message figure times, per pattern. */
  readonly sdkMessages: number;
  /** Members of the group of the fan-out run (0 skips it), how many of them are online, and its messages. */
  readonly groupMembers: number;
  readonly groupOnline: number;
  readonly groupMessages: number;
  /** Offline member devices that come back after the group's messages; their usage is scaled to all (0 skips the return). */
  readonly groupReturning: number;
  /**
   * Seconds of 1:1 traffic (on the 1:1 stream), alone and as many beside the group's fan-out on its own
   * stream (0 skips it), taken in turns over `groupInterferenceRounds`; its rate and conversations.
   */
  readonly groupInterferenceSeconds: number;
  readonly groupInterferenceRounds: number;
  readonly groupInterferenceRate: number;
  readonly groupInterferenceConversations: number;
  /** Only the group section: its figures replace the `groupFanout` entry of the results file, the rest stays. */
  readonly groupOnly: boolean;
  /** Pairs of the presence and typing section (0 skips it), and how long their devices type. */
  readonly presencePairs: number;
  readonly typingSeconds: number;
  /** Imports timed per Lambda bundle in the cold-start figures (`bench/bundles.ts`; 0 skips them). */
  readonly bundleImportRuns: number;
  /** MiB of the file the SDK's attachment crypto encrypts and decrypts (`bench/media-crypto.ts`; 0 skips it). */
  readonly mediaCryptoMb: number;
  /** MiB of the attachment uploaded and downloaded through the local stack, and how many times (0 skips it). */
  readonly mediaTransferMb: number;
  readonly mediaTransferRounds: number;
  /** Only the media section: its figures replace the `media` entry of the results file, the rest stays. */
  readonly mediaOnly: boolean;
  /** Memory of every Lambda function in the cost model, MB; 0 (the default) prices each at the memory the stack gives it (lib/memory-sizes.ts). */
  readonly lambdaMemoryMb: number;
  /** Where the figures are written. */
  readonly out: string;
  /** Devices acknowledge each queued frame with DELIVERED, as live clients do; off measures SEND → PUSH alone. */
  readonly delivered: boolean;
  /** Print the runtime's log lines. */
  readonly verbose: boolean;
  /** How the stack's SDK clients reach DynamoDB, Kinesis and `@connections` (`ParleyLocalOptions.awsTransport`). */
  readonly awsTransport: 'in-process' | 'loopback';
  /** DynamoDB and Kinesis on a thread of their own (`ParleyLocalOptions.emulatorThread`). */
  readonly emulatorThread: boolean;
  /** Worker threads the function invocations run on; 0 runs them on the main thread (`ParleyLocalOptions.functionThreads`). */
  readonly functionThreads: number;
}

export const defaultOptions: BenchOptions = {
  rate: 50,
  seconds: 10,
  pairs: 10,
  steps: [5, 10, 20, 30, 40, 50, 75, 100, 150, 200],
  stepSeconds: 5,
  budgetSeconds: 60,
  warmupSeconds: 10,
  p99LimitMs: 200,
  lowRateSeconds: 20,
  lowRate: 5,
  syncMessages: 1000,
  sdkSessions: 200,
  sdkMessages: 2000,
  groupMembers: 1024,
  groupOnline: 20,
  groupMessages: 5,
  groupReturning: 40,
  groupInterferenceSeconds: 24,
  groupInterferenceRounds: 4,
  groupInterferenceRate: 10,
  groupInterferenceConversations: 3,
  groupOnly: false,
  presencePairs: 10,
  typingSeconds: 6,
  bundleImportRuns: 3,
  mediaCryptoMb: 256,
  mediaTransferMb: 10,
  mediaTransferRounds: 3,
  mediaOnly: false,
  lambdaMemoryMb: 0,
  out: 'bench/results.json',
  delivered: true,
  verbose: false,
  awsTransport: 'in-process',
  emulatorThread: true,
  functionThreads: 2,
};

/**
 * `--rate-only`: the local stack's rate figures alone (the low rate, the fixed rate and the step-up), about a minute and a half, for
 * measuring a change to the local runtime; the results go to a temporary file, not bench/results.json, unless `--out` follows.
 */
const rateOnly: Partial<Record<keyof BenchOptions, unknown>> = {
  syncMessages: 0,
  sdkSessions: 0,
  groupMembers: 0,
  presencePairs: 0,
  bundleImportRuns: 0,
  mediaCryptoMb: 0,
  mediaTransferMb: 0,
  out: path.join(os.tmpdir(), 'parley-bench-rate-only.json'),
};

const usage = `npm run bench -- [--rate 50] [--seconds 10] [--pairs 10] [--steps 25,50,100] [--step-seconds 5]
  [--budget-seconds 60 (the step-up's, from its start)] [--warmup-seconds 10 (at 20 msg/s)] [--p99-limit-ms 200]
  [--low-rate 5] [--low-rate-seconds 20] [--sync-messages 1000] [--group-members 1024] [--group-online 20]
  [--group-messages 5] [--group-returning 40] [--group-interference-seconds 24] [--group-interference-rounds 4] [--group-interference-rate 10]
  [--group-interference-conversations 3] [--group-only] [--presence-pairs 10] [--typing-seconds 6] [--sdk-sessions 200] [--sdk-messages 2000]
  [--bundle-import-runs 3] [--lambda-memory-mb 0 (each function's own)]
  [--media-crypto-mb 256] [--media-transfer-mb 10] [--media-transfer-rounds 3] [--no-media] [--media-only]
  [--out bench/results.json] [--no-delivered] [--verbose] [--loopback] [--no-emulator-thread] [--function-threads 2]
  (--steps none skips the step-up)
  --rate-only    only the low rate, the fixed rate and the step-up (no bundles, SDK, SYNC, group, presence or media), written to
                 parley-bench-rate-only.json in the temporary folder unless --out follows it
  --loopback     the stack's DynamoDB, Kinesis and @connections requests over loopback HTTP instead of in process
  --no-emulator-thread   DynamoDB and Kinesis on the main thread with everything else, not on a thread of their own
  --function-threads N   the function invocations on N worker threads (0: on the main thread with the gateways)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: Record<string, unknown> = { ...defaultOptions };
  const numeric: Record<string, keyof BenchOptions> = {
    '--rate': 'rate',
    '--seconds': 'seconds',
    '--pairs': 'pairs',
    '--step-seconds': 'stepSeconds',
    '--budget-seconds': 'budgetSeconds',
    '--warmup-seconds': 'warmupSeconds',
    '--p99-limit-ms': 'p99LimitMs',
    '--low-rate': 'lowRate',
    '--low-rate-seconds': 'lowRateSeconds',
    '--sync-messages': 'syncMessages',
    '--sdk-sessions': 'sdkSessions',
    '--sdk-messages': 'sdkMessages',
    '--group-members': 'groupMembers',
    '--group-online': 'groupOnline',
    '--group-messages': 'groupMessages',
    '--group-returning': 'groupReturning',
    '--group-interference-seconds': 'groupInterferenceSeconds',
    '--group-interference-rounds': 'groupInterferenceRounds',
    '--group-interference-rate': 'groupInterferenceRate',
    '--group-interference-conversations': 'groupInterferenceConversations',
    '--presence-pairs': 'presencePairs',
    '--typing-seconds': 'typingSeconds',
    '--bundle-import-runs': 'bundleImportRuns',
    '--lambda-memory-mb': 'lambdaMemoryMb',
    '--media-crypto-mb': 'mediaCryptoMb',
    '--media-transfer-mb': 'mediaTransferMb',
    '--media-transfer-rounds': 'mediaTransferRounds',
    '--function-threads': 'functionThreads',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') {
      console.log(usage);
      process.exit(0);
    } else if (flag === '--verbose') options.verbose = true;
    else if (flag === '--no-delivered') options.delivered = false;
    else if (flag === '--no-media') Object.assign(options, { mediaCryptoMb: 0, mediaTransferMb: 0 });
    else if (flag === '--media-only') options.mediaOnly = true;
    else if (flag === '--group-only') options.groupOnly = true;
    else if (flag === '--rate-only') Object.assign(options, rateOnly);
    else if (flag === '--loopback') options.awsTransport = 'loopback';
    else if (flag === '--no-emulator-thread') options.emulatorThread = false;
    else if (flag === '--out') options.out = argv[++i];
    else if (flag === '--steps') {
      const value = argv[++i] ?? '';
      options.steps = value === 'none' ? [] : value.split(',').map(Number);
    } else if (numeric[flag]) options[numeric[flag]] = Number(argv[++i]);
    else throw new Error(`unknown flag ${flag}\n${usage}`);
  }
  const parsed = options as unknown as BenchOptions;
  for (const key of Object.values(numeric)) {
    const value = parsed[key] as number;
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key} must be a number ≥ 0\n${usage}`);
  }
  if (!Number.isInteger(parsed.functionThreads)) throw new Error(`--function-threads must be a whole number\n${usage}`);
  if (parsed.steps.some((rate) => !(rate > 0))) throw new Error(`--steps must be positive rates\n${usage}`);
  if (parsed.groupMembers > 0 && (parsed.groupMembers < parsed.groupOnline + 1 || parsed.groupMessages < 1 || parsed.groupOnline < 1)) {
    throw new Error(`--group-members must leave room for the sender and --group-online ≥ 1 members, with --group-messages ≥ 1\n${usage}`);
  }
  if (parsed.groupInterferenceSeconds > 0 && (parsed.groupInterferenceRate <= 0 || parsed.groupInterferenceConversations < 1 || !Number.isInteger(parsed.groupInterferenceRounds) || parsed.groupInterferenceRounds < 1)) {
    throw new Error(`--group-interference-rate must be positive, --group-interference-conversations and --group-interference-rounds whole numbers ≥ 1\n${usage}`);
  }
  if (parsed.groupOnly && parsed.groupMembers === 0) throw new Error(`--group-only needs --group-members > 0\n${usage}`);
  if (parsed.mediaTransferMb > 0 && parsed.mediaTransferRounds < 1) throw new Error(`--media-transfer-rounds must be ≥ 1\n${usage}`);
  if (parsed.pairs < 1 || parsed.rate <= 0) throw new Error(`--pairs and --rate must be positive\n${usage}`);
  return parsed;
}
