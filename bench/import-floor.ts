/**
 * Where a bundle's import time goes: each part a handler bundle is made of, bundled alone exactly as
 * lib/functions.ts bundles a function (`bundlingFor`, minified CJS for node24), then `require`d in a fresh
 * `node` `runs` times (median CPU and wall). The SDK parts make and configure their clients as
 * lambdas/runtime/clients/*.ts do, so they are what a function pays before its first request; the sum of
 * the parts a function holds is its import floor with these packages.
 *
 * `npm run bench:import-floor [-- --runs 7]`; prints a table, writes nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { esbuildOptionsOf } from './bundles';
import { bundlingFor } from '../lib/functions';
import { functions } from '../lambdas/functions';

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Each part as the source of an entry file (ES module syntax, so that esbuild tree-shakes it), resolved from the project root. */
const PARTS: Readonly<Record<string, string>> = {
  'node (an empty bundle)': '',
  'DynamoDB document client': `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
    import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
    export default [DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), GetCommand, PutCommand, QueryCommand, UpdateCommand, DeleteCommand];`,
  'Kinesis client': `import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
    export default [new KinesisClient({ region: 'us-east-1' }), PutRecordCommand];`,
  '@connections client': `import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
    export default [new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: 'https://example.com' }), PostToConnectionCommand];`,
  'DynamoDB + Kinesis + @connections (send)': `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
    import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
    import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
    import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
    export default [DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), GetCommand, new KinesisClient({ region: 'us-east-1' }), PutRecordCommand,
      new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: 'https://example.com' }), PostToConnectionCommand];`,
  'S3 client + presigner': `import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
    import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
    export default [new S3Client({ region: 'us-east-1' }), PutObjectCommand, getSignedUrl];`,
  'Powertools logger': `import { Logger } from '@aws-lambda-powertools/logger'; export default new Logger({ serviceName: 'parley' });`,
  'Powertools metrics': `import { Metrics } from '@aws-lambda-powertools/metrics'; export default new Metrics({ namespace: 'parley' });`,
  'Powertools tracer (X-Ray SDK)': `import { Tracer } from '@aws-lambda-powertools/tracer'; export default new Tracer({ serviceName: 'parley' });`,
  'zod/mini + the frame schemas': `export * from './lambdas/protocol/frames';`,
  'classic zod + 5 schemas (for comparison)': `import * as z from 'zod';
    export default z.strictObject({ action: z.literal('SEND'), a: z.uuid(), b: z.string().min(1).max(5).regex(/x/), c: z.array(z.number().int().min(1)).min(1).refine((v) => v.length > 0), d: z.enum(['a', 'b']).optional() });`,
};

const TIMER = `const { performance } = require('node:perf_hooks');
const cpu = process.cpuUsage(); const started = performance.now();
require(process.argv[1]);
const { user, system } = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ wallMs: performance.now() - started, cpuMs: (user + system) / 1000 }));`;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timeImport(file: string, runs: number): Promise<{ cpuMs: number; wallMs: number }> {
  const times: { cpuMs: number; wallMs: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', TIMER, file], { env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' } }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    times.push(JSON.parse(out) as { cpuMs: number; wallMs: number });
  }
  return { cpuMs: median(times.map((t) => t.cpuMs)), wallMs: median(times.map((t) => t.wallMs)) };
}

async function main(): Promise<void> {
  const runsFlag = process.argv.indexOf('--runs');
  const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'parley-import-floor-'));
  try {
    // A function that uses every service, so no client is defined away.
    const bundling = esbuildOptionsOf(bundlingFor({ ...functions.send, uploadsTo: ['media'], sendsSms: true }));
    console.log(`${'part'.padEnd(44)}${'bytes'.padStart(9)}${'import CPU'.padStart(12)}${'wall'.padStart(10)}  (median of ${runs}, load ${os.loadavg()[0]!.toFixed(1)})`);
    for (const [name, source] of Object.entries(PARTS)) {
      const outfile = path.join(outDir, `${Object.keys(PARTS).indexOf(name)}.js`);
      await build({ ...bundling, absWorkingDir: PROJECT_ROOT, stdin: { contents: source, resolveDir: PROJECT_ROOT, loader: 'ts' }, outfile, logLevel: 'error' });
      const { cpuMs, wallMs } = await timeImport(outfile, runs);
      console.log(`${name.padEnd(44)}${`${(statSync(outfile).size / 1024).toFixed(0)} KB`.padStart(9)}${`${cpuMs.toFixed(1)} ms`.padStart(12)}${`${wallMs.toFixed(1)} ms`.padStart(10)}`);
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
