/**
 * Cold start of the Lambda bundles: builds every function of `lambdas/functions.ts` with esbuild exactly as
 * the CDK does (`bundlingFor` in lib/functions.ts), and measures each bundle's size, what fills it, the time
 * a fresh `node` process takes to `require` it with the function's environment, and, for the functions on
 * every message's path, its first invocation right after (bench/cold-start-events.ts), its AWS requests
 * answered by a stand-in endpoint (median of a few runs, one process each, one after another).
 *
 * `npm run bench:bundles [-- --runs 5]` runs it alone and merges its figures into bench/results.json;
 * `-- --only send,fanout` measures those functions only and prints them without merging, to iterate in
 * seconds; `-- --tracing subsegments` the bundles with the X-Ray SDK (`parley:tracing`), not merged either. `npm run bench` runs it first, before the local stack starts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { bundlingFor, DEFAULT_TRACING, TRACING_MODES, type TracingMode } from '../lib/functions';
import { memorySizeOf } from '../lib/memory-sizes';
import { DEFAULT_SMS_LIMITS } from '../lambdas/accounts/constants';
import { functionEnvironment, type ResourceNames } from '../lambdas/function-environment';
import { functions, type FunctionDefinition, type FunctionId } from '../lambdas/functions';
import { buckets, streams, tables } from '../lambdas/resources';
import { coldStartEvents } from './cold-start-events';
import { replaceInResults } from './results-file';
import { BUNDLE_TARGETS, verdict as met } from './targets';

const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface BundleFigures {
  readonly functionId: FunctionId;
  /** Size of the bundle (`index.js`), bytes. */
  readonly bytes: number;
  /** Size of its source map, bytes (0: none); Lambda reads it at import when `--enable-source-maps` is on. */
  readonly sourceMapBytes: number;
  /** Median wall time of `require(bundle)` in a fresh process, ms. */
  readonly importMs: number;
  /** Median CPU time (user + system) of that `require`, ms: what other processes on the machine do not stretch. */
  readonly importCpuMs: number;
  /**
   * The first invocation after the import (functions on the message path only): median wall and CPU time
   * of the handler's first call, and the AWS requests it made (each answered at once with an empty success
   * by a stand-in endpoint, so this is the bundle's own work: loading the tracer, making the SDK clients,
   * serializing and signing).
   */
  readonly firstInvocation?: { readonly ms: number; readonly cpuMs: number; readonly awsRequests: number };
  /** The largest packages in the bundle (scoped packages by scope; `parley`: our own code), bytes each. */
  readonly largestParts: readonly { readonly name: string; readonly bytes: number }[];
}

export interface BundlesRun {
  /** What the bundles were built with on top of lib/functions.ts's `bundlingFor` (`{}`: exactly as deployed). */
  readonly overrides: BundlingOptions;
  /** How the bundles trace (`parley:tracing`). */
  readonly tracing: TracingMode;
  /** Imports timed per bundle; the median is reported. */
  readonly importRuns: number;
  readonly functions: readonly BundleFigures[];
  readonly largestBytes: number;
  readonly medianBytes: number;
  readonly slowestImportMs: number;
  readonly medianImportMs: number;
  readonly slowestImportCpuMs: number;
  readonly medianImportCpuMs: number;
  /** Median over the functions with a timed first invocation of its CPU time, and of import + first invocation. */
  readonly medianFirstInvocationCpuMs: number;
  readonly medianColdStartCpuMs: number;
}

/** esbuild's options for what the CDK's `NodejsFunction` runs as `esbuild --bundle` with these `BundlingOptions`. */
export function esbuildOptionsOf(bundling: BundlingOptions): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    ...(bundling.target ? { target: bundling.target } : {}),
    ...(bundling.format ? { format: bundling.format } : {}),
    ...(bundling.minify ? { minify: true } : {}),
    ...(bundling.sourceMap ? { sourcemap: bundling.sourceMapMode && bundling.sourceMapMode !== 'default' ? bundling.sourceMapMode : true } : {}),
    ...(bundling.sourcesContent === false ? { sourcesContent: false } : {}),
    ...(bundling.mainFields ? { mainFields: bundling.mainFields } : {}),
    ...(bundling.define ? { define: bundling.define } : {}),
    ...(bundling.keepNames ? { keepNames: true } : {}),
    ...(bundling.loader ? { loader: bundling.loader as BuildOptions['loader'] } : {}),
    ...(bundling.esbuildArgs?.['--legal-comments'] ? { legalComments: bundling.esbuildArgs['--legal-comments'] as BuildOptions['legalComments'] } : {}),
    ...(bundling.esbuildArgs?.['--alias'] ? { alias: aliasesOf(bundling.esbuildArgs['--alias']) } : {}),
    // The CDK leaves the runtime's SDK v3 external unless `bundleAwsSDK` is set.
    external: [...(bundling.externalModules ?? (bundling.bundleAwsSDK ? [] : ['@aws-sdk/*']))],
  };
}

/** esbuild's `alias` option for the CLI's `--alias:<package>=<path>` (`<package>=<path>`, or a list of them, as the CDK's `esbuildArgs` takes it). */
function aliasesOf(arg: string | boolean | string[]): Record<string, string> {
  if (typeof arg === 'boolean') throw new Error('--alias takes <package>=<path>');
  return Object.fromEntries(
    (Array.isArray(arg) ? arg : [arg]).map((alias) => {
      const [from, to] = alias.split('=') as [string, string | undefined];
      if (!to) throw new Error(`--alias takes <package>=<path>, not ${alias}`);
      return [from, to];
    }),
  );
}

/** The package an input of the bundle belongs to: `@scope` for scoped packages, `parley` for our own files. */
function partOf(input: string): string {
  const match = /node_modules\/((@[^/]+)\/[^/]+|[^/]+)/.exec(input);
  return match ? (match[2] ?? match[1]!) : 'parley';
}

function largestParts(metafile: Metafile, outfile: string, count = 4): BundleFigures['largestParts'] {
  const output = Object.entries(metafile.outputs).find(([file]) => path.resolve(PROJECT_ROOT, file) === outfile)![1];
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) bytes.set(partOf(input), (bytes.get(partOf(input)) ?? 0) + bytesInOutput);
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, size]) => ({ name, bytes: size }));
}

/** Resource names of no real deployment: the bundles only read them at import. */
const stubNames: ResourceNames = {
  tables: Object.fromEntries(Object.keys(tables).map((id) => [id, `parley-${id}`])) as ResourceNames['tables'],
  streams: Object.fromEntries(Object.keys(streams).map((id) => [id, `parley-${id}`])) as ResourceNames['streams'],
  buckets: Object.fromEntries(Object.keys(buckets).map((id) => [id, `parley-${id}`])) as ResourceNames['buckets'],
  connectionsEndpoint: 'https://example.execute-api.us-east-1.amazonaws.com/live',
  pushPlatformApplications: '{}',
  smsLimits: JSON.stringify(DEFAULT_SMS_LIMITS),
};

/** What Lambda sets that the handlers or Powertools read, with every AWS endpoint at `awsEndpoint`. */
function lambdaEnvironment(functionId: FunctionId, definition: FunctionDefinition, awsEndpoint: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: functionId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySizeOf(functionId, {})),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_ACCESS_KEY_ID: 'ASIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_ENDPOINT_URL: awsEndpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...functionEnvironment(definition, { ...stubNames, connectionsEndpoint: awsEndpoint }),
  };
}

/**
 * Prints, on a line of its own after whatever the handler logged, the wall and CPU (user + system)
 * milliseconds of one `require` and, given an event, of the handler's first call with it.
 */
const COLD_START_TIMER = `const { performance } = require('node:perf_hooks');
const time = async (work) => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const { user, system } = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (user + system) / 1000 };
};
(async () => {
  let bundle;
  const imported = await time(() => { bundle = require(process.argv[1]); });
  const event = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
  const context = { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, awsRequestId: 'bench', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, getRemainingTimeInMillis: () => 10000 };
  const invoked = event === undefined ? undefined : await time(() => bundle.handler(event, context).catch(() => undefined));
  process.stdout.write('\\n' + JSON.stringify({ imported, invoked }) + '\\n');
})();`;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const tenths = (ms: number) => Math.round(ms * 10) / 10;

/** A stand-in for every AWS endpoint: answers each request with an empty JSON success, and counts them. */
async function startStandInEndpoint(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type ColdStartTimes = Pick<BundleFigures, 'importMs' | 'importCpuMs' | 'firstInvocation'>;

/**
 * Medians of `runs` cold starts, each in a fresh process: the import, then the first invocation with `event`
 * if there is one. CPU time is the figure to compare on a shared machine (other processes stretch the wall
 * time, not the CPU time); on Lambda the wall time is about the CPU time divided by the function's share of
 * a vCPU (lib/memory-sizes.ts).
 */
async function timeColdStart(file: string, environment: NodeJS.ProcessEnv, event: unknown, runs: number, endpoint: { requests: () => number }): Promise<ColdStartTimes> {
  const times: { imported: { wallMs: number; cpuMs: number }; invoked?: { wallMs: number; cpuMs: number }; awsRequests: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const before = endpoint.requests();
    const args = ['-e', COLD_START_TIMER, file, ...(event === undefined ? [] : [JSON.stringify(event)])];
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args, { env: environment, encoding: 'utf8' }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    const lastLine = stdout.trim().split('\n').at(-1)!;
    times.push({ ...(JSON.parse(lastLine) as Omit<(typeof times)[number], 'awsRequests'>), awsRequests: endpoint.requests() - before });
  }
  const invoked = times.flatMap((t) => (t.invoked ? [{ ...t.invoked, awsRequests: t.awsRequests }] : []));
  return {
    importMs: tenths(median(times.map((t) => t.imported.wallMs))),
    importCpuMs: tenths(median(times.map((t) => t.imported.cpuMs))),
    ...(invoked.length
      ? {
          firstInvocation: {
            ms: tenths(median(invoked.map((t) => t.wallMs))),
            cpuMs: tenths(median(invoked.map((t) => t.cpuMs))),
            awsRequests: median(invoked.map((t) => t.awsRequests)),
          },
        }
      : {}),
  };
}

/** What to build besides the deployed defaults. */
export interface BundlesSelection {
  /** On top of lib/functions.ts's `bundlingFor`. */
  readonly overrides?: BundlingOptions;
  /** `parley:tracing`, as deployed by default if unset. */
  readonly tracing?: TracingMode;
  /** These functions only (to iterate on a few in seconds). */
  readonly only?: readonly FunctionId[];
}

/** Builds every function's bundle as lib/functions.ts does, then times each bundle's import `runs` times. */
export async function measureBundles(runs = 5, { overrides = {}, tracing = DEFAULT_TRACING, only }: BundlesSelection = {}): Promise<BundlesRun> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'parley-bundles-'));
  try {
    const definitions = (Object.entries(functions) as [FunctionId, FunctionDefinition][]).filter(([id]) => !only || only.includes(id));
    const built = await Promise.all(
      definitions.map(async ([functionId, definition]) => {
        const outfile = path.join(outDir, functionId, 'index.js');
        const { metafile } = await build({
          ...esbuildOptionsOf(bundlingFor(definition, overrides, tracing)),
          absWorkingDir: PROJECT_ROOT,
          entryPoints: [path.join(PROJECT_ROOT, definition.entry)],
          outfile,
          metafile: true,
          logLevel: 'error',
        });
        return { functionId, definition, outfile, metafile };
      }),
    );
    const endpoint = await startStandInEndpoint();
    const figures: BundleFigures[] = [];
    try {
      for (const { functionId, definition, outfile, metafile } of built) {
        const environment = lambdaEnvironment(functionId, definition, endpoint.url);
        figures.push({
          functionId,
          bytes: statSync(outfile).size,
          sourceMapBytes: statSync(`${outfile}.map`, { throwIfNoEntry: false })?.size ?? 0,
          ...(await timeColdStart(outfile, environment, coldStartEvents[functionId], runs, endpoint)),
          largestParts: largestParts(metafile, outfile),
        });
      }
    } finally {
      await endpoint.close();
    }
    const invoked = figures.filter((f) => f.firstInvocation);
    return {
      overrides,
      tracing,
      importRuns: runs,
      functions: figures,
      largestBytes: Math.max(...figures.map((f) => f.bytes)),
      medianBytes: median(figures.map((f) => f.bytes)),
      slowestImportMs: Math.max(...figures.map((f) => f.importMs)),
      medianImportMs: median(figures.map((f) => f.importMs)),
      slowestImportCpuMs: Math.max(...figures.map((f) => f.importCpuMs)),
      medianImportCpuMs: median(figures.map((f) => f.importCpuMs)),
      medianFirstInvocationCpuMs: median(invoked.map((f) => f.firstInvocation!.cpuMs)),
      medianColdStartCpuMs: tenths(median(invoked.map((f) => f.importCpuMs + f.firstInvocation!.cpuMs))),
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

/** One line per function: size, source map, import time, first invocation and what fills the bundle; then the targets. */
export function formatBundles(run: BundlesRun): string {
  const width = Math.max(...run.functions.map((f) => f.functionId.length)) + 2;
  const lines = run.functions.map(
    (f) =>
      `${f.functionId.padEnd(width)}${kb(f.bytes).padStart(8)}  map ${kb(f.sourceMapBytes).padStart(8)}  import ${`${f.importCpuMs} ms`.padStart(9)} CPU ${`${f.importMs} ms`.padStart(9)} wall  ` +
      (f.firstInvocation ? `1st call ${`${f.firstInvocation.cpuMs} ms`.padStart(9)} CPU, ${f.firstInvocation.awsRequests} AWS req.  ` : ''.padEnd(37)) +
      f.largestParts.map((part) => `${part.name} ${kb(part.bytes)}`).join(', '),
  );
  const over = run.functions.filter((f) => f.bytes > BUNDLE_TARGETS.bytes);
  const slow = run.functions.filter((f) => f.importCpuMs > BUNDLE_TARGETS.importCpuMs);
  lines.push(
    `${'(all)'.padEnd(width)}largest ${kb(run.largestBytes)}, median ${kb(run.medianBytes)}; import CPU slowest ${run.slowestImportCpuMs} ms, median ${run.medianImportCpuMs} ms; wall median ${run.medianImportMs} ms (median of ${run.importRuns} runs each)`,
    `${'(path)'.padEnd(width)}first invocation CPU median ${run.medianFirstInvocationCpuMs} ms; import + first invocation median ${run.medianColdStartCpuMs} ms`,
    `target: bundle <= ${kb(BUNDLE_TARGETS.bytes)}: ${met(over.length === 0)} (${run.functions.length - over.length} of ${run.functions.length}${over.length ? `; over: ${over.map((f) => f.functionId).join(', ')}` : ''})`,
    `target: import <= ${BUNDLE_TARGETS.importCpuMs} ms CPU: ${met(slow.length === 0)} (${run.functions.length - slow.length} of ${run.functions.length}; median ${run.medianImportCpuMs} ms)`,
  );
  return lines.join('\n');
}

const USAGE = `usage: npm run bench:bundles [-- --runs 5] [--only send,fanout] [--tracing ${TRACING_MODES.join('|')}]`;

async function main(): Promise<void> {
  const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const runs = Number(flag('--runs') ?? 5);
  if (!(runs >= 1)) throw new Error(USAGE);
  const only = flag('--only')?.split(',') as FunctionId[] | undefined;
  const unknown = only?.filter((id) => !(id in functions));
  if (unknown?.length) throw new Error(`no function ${unknown.join(', ')}; ${USAGE}`);
  const tracing = (flag('--tracing') ?? DEFAULT_TRACING) as TracingMode;
  if (!TRACING_MODES.includes(tracing)) throw new Error(USAGE);
  const out = path.join(PROJECT_ROOT, 'bench/results.json');
  const run = await measureBundles(runs, { only, tracing });
  console.log(formatBundles(run));
  // A few functions', or another tracing's, figures are not the deployed bundles': bench/results.json keeps only those.
  if (only || tracing !== DEFAULT_TRACING) return;
  replaceInResults(out, { bundles: run });
  console.log(`\nMerged into ${path.relative(process.cwd(), out)} as "bundles".`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
