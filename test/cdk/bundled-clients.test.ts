import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { esbuildOptionsOf } from '../../bench/bundles';
import { bundleAliasesFor, bundleDefinesFor, servicesUsedBy, WITHOUT_EVENT_STREAMS_MODULE } from '../../lib/bundled-clients';
import { bundlingFor, type TracingMode } from '../../lib/functions';
import { functions } from '../../lambdas/functions';
import { EventStreamSerde, eventStreamSerdeProvider, resolveEventStreamSerdeConfig } from '../../lambdas/runtime/without-event-streams';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** The inputs esbuild put into a function's bundle as lib/functions.ts bundles it (with some bytes in the output). */
async function inputsOfBundle(functionId: keyof typeof functions, tracing?: TracingMode): Promise<string[]> {
  const definition = functions[functionId];
  const { metafile } = await build({
    ...esbuildOptionsOf(bundlingFor(definition, {}, tracing)),
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [path.join(PROJECT_ROOT, definition.entry)],
    write: false,
    outfile: 'index.js',
    metafile: true,
    logLevel: 'error',
  });
  // A command's module may come along with the domain code that sends it; the client class, its
  // configuration and endpoint rules come only with the client.
  const output = Object.values(metafile.outputs).find((file) => file.entryPoint);
  return Object.entries(output!.inputs).filter(([, { bytesInOutput }]) => bytesInOutput > 0).map(([input]) => input);
}

/** The text of a function's bundle as lib/functions.ts builds it. */
async function bundleText(functionId: keyof typeof functions): Promise<string> {
  const definition = functions[functionId];
  const { outputFiles } = await build({
    ...esbuildOptionsOf(bundlingFor(definition)),
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [path.join(PROJECT_ROOT, definition.entry)],
    write: false,
    outfile: 'index.js',
    logLevel: 'error',
  });
  return outputFiles.find((file) => file.path.endsWith('index.js'))!.text;
}

/** The SDK client classes (`S3Client`, ...) in a function's bundle. */
async function sdkClientsInBundle(functionId: keyof typeof functions): Promise<Set<string>> {
  const inBundle = await inputsOfBundle(functionId);
  return new Set(inBundle.flatMap((input) => /@aws-sdk\/client-[^/]+\/dist-[a-z]+\/(\w+Client)\.js$/.exec(input)?.[1] ?? []));
}

describe('bundled clients', () => {
  describe('servicesUsedBy', () => {
    it('reads the services from the access a definition declares', () => {
      expect([...servicesUsedBy(functions.send)].sort()).toEqual(['connections', 'dynamodb', 'kinesis']);
      expect([...servicesUsedBy(functions.createMediaUpload)].sort()).toEqual(['dynamodb', 's3']);
      expect([...servicesUsedBy(functions.requestVerificationCode)]).toContain('sns');
      expect([...servicesUsedBy(functions.unknownAction)]).toEqual([]);
    });
  });

  describe('bundleDefinesFor', () => {
    it('leaves out every service a function does not use', () => {
      expect(bundleDefinesFor(functions.listDevices)).toEqual({
        'process.env.PARLEY_BUNDLE_WITHOUT_SNS': '"true"',
        'process.env.PARLEY_BUNDLE_WITHOUT_KINESIS': '"true"',
        'process.env.PARLEY_BUNDLE_WITHOUT_S3': '"true"',
        'process.env.PARLEY_BUNDLE_WITHOUT_CONNECTIONS': '"true"',
      });
    });

    it('names variables that lambdas/runtime/clients.ts reads', () => {
      const source = readFileSync(path.join(PROJECT_ROOT, 'lambdas/runtime/clients.ts'), 'utf8');
      for (const name of Object.keys(bundleDefinesFor(functions.unknownAction))) expect(source).toContain(name);
    });
  });

  describe('bundleAliasesFor', () => {
    it('swaps the SDK\'s event streams out only where no client of the function has event-stream operations', () => {
      expect(bundleAliasesFor(functions.disconnect)).toEqual([`@smithy/core/event-streams=./${WITHOUT_EVENT_STREAMS_MODULE}`]);
      expect(bundleAliasesFor(functions.requestVerificationCode)).toHaveLength(1);
      expect(bundleAliasesFor(functions.send)).toEqual([]); // Kinesis: SubscribeToShard
      expect(bundleAliasesFor(functions.createMediaUpload)).toEqual([]); // S3: SelectObjectContent
    });

    it('puts in their place a module that says why, should an event-stream operation ever be reached', () => {
      const why = /event streams are not in this bundle/;
      expect(() => new EventStreamSerde()).toThrow(why);
      expect(() => eventStreamSerdeProvider()).toThrow(why);
      expect(() => resolveEventStreamSerdeConfig()).toThrow(why);
    });
  });

  describe('a bundle', () => {
    it('holds the SDK clients its function uses and not the others', async () => {
      expect([...(await sdkClientsInBundle('listDevices'))]).toEqual(['DynamoDBClient']);
      expect([...(await sdkClientsInBundle('createMediaUpload'))].sort()).toEqual(['DynamoDBClient', 'S3Client']);
    }, 30_000);

    it('holds the commands its code sends, not an aggregated client (`DynamoDB`) with every command of its service', async () => {
      const inBundle = await inputsOfBundle('disconnect');
      expect(inBundle.filter((input) => /@aws-sdk\/client-[^/]+\/dist-es\/(DynamoDB|Kinesis|S3|SNS|ApiGatewayManagementApi)\.js$/.test(input))).toEqual([]);
      expect(inBundle.filter((input) => /client-dynamodb\/dist-es\/commands\/CreateTableCommand/.test(input))).toEqual([]);
    }, 30_000);

    it('takes its credentials from the environment, without the rest of the SDK\'s default chain', async () => {
      const inBundle = await inputsOfBundle('send');
      expect(inBundle).toContain('lambdas/runtime/lambda-credentials.ts');
      expect(inBundle.filter((input) => /credential-provider-|nested-clients|token-providers/.test(input))).toEqual([]);
    }, 30_000);

    it('holds the SDK\'s event-stream codec only with a client that has event-stream operations', async () => {
      const eventStreams = (inputs: string[]) => inputs.filter((input) => input.includes('@smithy/core/dist-es/submodules/event-streams/'));
      const disconnect = await inputsOfBundle('disconnect');
      expect(eventStreams(disconnect)).toEqual([]);
      expect(disconnect).toContain(WITHOUT_EVENT_STREAMS_MODULE);
      expect(eventStreams(await inputsOfBundle('send')).length).toBeGreaterThan(0);
    }, 30_000);

    it('holds the schema of the frames its function parses, not every frame of the protocol', async () => {
      const actions = (text: string) => ['"SEND"', '"GROUP_SEND"', '"UPLOAD_PREKEYS"', '"SUBSCRIBE_PRESENCE"'].filter((action) => text.includes(action));
      expect(actions(await bundleText('send'))).toEqual(['"SEND"']);
      expect(actions(await bundleText('disconnect'))).toEqual([]);
    }, 30_000);

    it('holds the X-Ray SDK only when parley:tracing is subsegments', async () => {
      const xray = (inputs: string[]) => inputs.filter((input) => /aws-xray-sdk-core|cls-hooked|powertools\/tracer/.test(input)).length;
      expect(xray(await inputsOfBundle('fanout'))).toBe(0);
      expect(xray(await inputsOfBundle('fanout', 'active'))).toBe(0);
      expect(xray(await inputsOfBundle('fanout', 'subsegments'))).toBeGreaterThan(0);
    }, 60_000);

    it('holds zod/mini with its English messages, not classic zod nor every locale (what `import { z }` brings)', async () => {
      const inBundle = await inputsOfBundle('putContacts');
      expect(inBundle.filter((input) => /zod\/v4\/(classic\/|locales\/(?!en\.js))/.test(input))).toEqual([]);
      expect(inBundle.filter((input) => /zod\/v4\/(mini\/|locales\/en\.js)/.test(input)).length).toBeGreaterThan(0);
    }, 30_000);
  });
});
