/**
 * Cold start of the Lambda bundles: builds every function of `lambdas/functions.ts` with esbuild exactly as
 * the CDK does (`bundlingFor` in lib/functions.ts), and measures each bundle's size, what fills it, and
 * the time a fresh `node` process takes to `require` it with the function's environment and Lambda's
 * `NODE_OPTIONS` (median of a few runs, one process each, one after another).
 *
 * `npm run bench:bundles [-- --runs 5]` runs it alone and merges its figures into bench/results.json;
 * `npm run bench` runs it first, before the local stack starts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { bundlingFor } from '../lib/functions';
import { DEFAULT_SMS_LIMITS } from '../lambdas/accounts/constants';
import { functionEnvironment, type ResourceNames } from '../lambdas/function-environment';
import { functions, type FunctionDefinition, type FunctionId } from '../lambdas/functions';
import { buckets, streams, tables } from '../lambdas/resources';

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
  /** The largest packages in the bundle (scoped packages by scope; `parley`: our own code), bytes each. */
  readonly largestParts: readonly { readonly name: string; readonly bytes: number }[];
}

export interface BundlesRun {
  /** What the bundles were built with on top of lib/functions.ts's `bundlingFor` (`{}`: exactly as deployed). */
  readonly overrides: BundlingOptions;
  /** Imports timed per bundle; the median is reported. */
  readonly importRuns: number;
  readonly functions: readonly BundleFigures[];
  readonly largestBytes: number;
  readonly medianBytes: number;
  readonly slowestImportMs: number;
  readonly medianImportMs: number;
  readonly slowestImportCpuMs: number;
  readonly medianImportCpuMs: number;
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
    ...(typeof bundling.esbuildArgs?.['--alias'] === 'string' ? { alias: aliasOf(bundling.esbuildArgs['--alias']) } : {}),
    // The CDK leaves the runtime's SDK v3 external unless `bundleAwsSDK` is set.
    external: [...(bundling.externalModules ?? (bundling.bundleAwsSDK ? [] : ['@aws-sdk/*']))],
  };
}

/** esbuild's `alias` option for the CLI's `--alias:<package>=<path>` (`<package>=<path>` as the CDK's `esbuildArgs` takes it). */
function aliasOf(arg: string): Record<string, string> {
  const [from, to] = arg.split('=') as [string, string | undefined];
  if (!to) throw new Error(`--alias takes <package>=<path>, not ${arg}`);
  return { [from]: to };
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

/** What Lambda sets that the handlers or Powertools read at import. */
function lambdaEnvironment(functionId: FunctionId, definition: FunctionDefinition): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: functionId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ...functionEnvironment(definition, stubNames),
  };
}

/** Prints the wall and CPU (user + system) milliseconds of one `require`, as JSON. */
const IMPORT_TIMER = `const { performance } = require('node:perf_hooks');
const cpu = process.cpuUsage();
const started = performance.now();
require(process.argv[1]);
const wallMs = performance.now() - started;
const { user, system } = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ wallMs, cpuMs: (user + system) / 1000 }));`;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const tenths = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Medians of `runs` imports, each in a fresh process. CPU time is the figure to compare on a shared machine
 * (other processes stretch the wall time, not the CPU time); on Lambda the wall time is about the CPU time
 * divided by the function's share of a vCPU.
 */
function timeImport(file: string, environment: NodeJS.ProcessEnv, runs: number): Pick<BundleFigures, 'importMs' | 'importCpuMs'> {
  const times = Array.from({ length: runs }, () =>
    JSON.parse(execFileSync(process.execPath, ['-e', IMPORT_TIMER, file], { env: environment, encoding: 'utf8' })) as { wallMs: number; cpuMs: number },
  );
  return { importMs: tenths(median(times.map((t) => t.wallMs))), importCpuMs: tenths(median(times.map((t) => t.cpuMs))) };
}

/** Builds every function's bundle as lib/functions.ts does (with `overrides`), then times each bundle's import `runs` times. */
export async function measureBundles(runs = 5, overrides: BundlingOptions = {}): Promise<BundlesRun> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'parley-bundles-'));
  try {
    const definitions = Object.entries(functions) as [FunctionId, FunctionDefinition][];
    const built = await Promise.all(
      definitions.map(async ([functionId, definition]) => {
        const outfile = path.join(outDir, functionId, 'index.js');
        const { metafile } = await build({
          ...esbuildOptionsOf(bundlingFor(definition, overrides)),
          absWorkingDir: PROJECT_ROOT,
          entryPoints: [path.join(PROJECT_ROOT, definition.entry)],
          outfile,
          metafile: true,
          logLevel: 'error',
        });
        return { functionId, definition, outfile, metafile };
      }),
    );
    const figures = built.map(({ functionId, definition, outfile, metafile }): BundleFigures => {
      const sourceMap = `${outfile}.map`;
      return {
        functionId,
        bytes: statSync(outfile).size,
        sourceMapBytes: statSync(sourceMap, { throwIfNoEntry: false })?.size ?? 0,
        ...timeImport(outfile, lambdaEnvironment(functionId, definition), runs),
        largestParts: largestParts(metafile, outfile),
      };
    });
    return {
      overrides,
      importRuns: runs,
      functions: figures,
      largestBytes: Math.max(...figures.map((f) => f.bytes)),
      medianBytes: median(figures.map((f) => f.bytes)),
      slowestImportMs: Math.max(...figures.map((f) => f.importMs)),
      medianImportMs: median(figures.map((f) => f.importMs)),
      slowestImportCpuMs: Math.max(...figures.map((f) => f.importCpuMs)),
      medianImportCpuMs: median(figures.map((f) => f.importCpuMs)),
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

/** One line per function: size, source map, import time and what fills the bundle. */
export function formatBundles(run: BundlesRun): string {
  const width = Math.max(...run.functions.map((f) => f.functionId.length)) + 2;
  const lines = run.functions.map(
    (f) =>
      `${f.functionId.padEnd(width)}${kb(f.bytes).padStart(8)}  map ${kb(f.sourceMapBytes).padStart(8)}  import ${`${f.importCpuMs} ms`.padStart(9)} CPU ${`${f.importMs} ms`.padStart(9)} wall   ` +
      f.largestParts.map((part) => `${part.name} ${kb(part.bytes)}`).join(', '),
  );
  lines.push(
    `${'(all)'.padEnd(width)}largest ${kb(run.largestBytes)}, median ${kb(run.medianBytes)}; import CPU slowest ${run.slowestImportCpuMs} ms, median ${run.medianImportCpuMs} ms; wall median ${run.medianImportMs} ms (median of ${run.importRuns} runs each)`,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const runsFlag = process.argv.indexOf('--runs');
  const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;
  if (!(runs >= 1)) throw new Error('usage: npm run bench:bundles [-- --runs 5]');
  const out = path.join(PROJECT_ROOT, 'bench/results.json');
  const run = await measureBundles(runs);
  console.log(formatBundles(run));
  const results = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  writeFileSync(out, `${JSON.stringify({ ...results, bundles: run }, null, 2)}\n`);
  console.log(`\nMerged into ${path.relative(process.cwd(), out)} as "bundles".`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
