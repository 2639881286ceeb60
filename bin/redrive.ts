#!/usr/bin/env -S npx tsx
/**
 * `npm run redrive`: puts the message-stream records the fanout gave up on (kept in the failedDeliveries
 * bucket) back through the fanout, or answers those older than 30 days with `failed` receipts; prints
 * what it did.
 *   --stage NAME      against AWS: the deployed stage, i.e. the stack `Parley-NAME` (as bin/parley.ts names it),
 *                     whose outputs name the bucket and the two message streams; credentials and region as the AWS CLI's
 *   --stack NAME      against AWS: the deployed stack of that name (one deployed with `parley:stackName`)
 *   --bucket NAME --stream NAME --group-stream NAME --accepted-messages NAME
 *                     against AWS, with the names given instead of read from the stack (--stream the 1:1
 *                     conversations' stream, --group-stream the groups'; the accepted-messages
 *                     table tells which failed messages their senders deleted for everyone: those are dropped)
 *   --local URL       against a running `npm start`: its HTTP API URL, e.g. http://127.0.0.1:3000
 *   --dry-run         only count what would be replayed or answered
 *   --give-up         answer every failed message with a `failed` receipt now instead of replaying it
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { parseArgs } from 'node:util';
import { redriveFailedRecords, type RedriveReport } from '../lambdas/fanout/redrive';
import { streams, tables } from '../lambdas/resources';
import { createClients } from '../lambdas/runtime/clients';
import { outputValue, STACK_OUTPUTS, stackNameOfStage } from '../lib/stack-outputs';
import type { RedriveRequest } from '../local/redrive-route';

export type RedriveTarget =
  | { readonly kind: 'aws'; readonly stackName: string; readonly region?: string }
  | { readonly kind: 'awsNamed'; readonly bucket: string; readonly stream: string; readonly groupStream: string; readonly acceptedMessages: string; readonly region?: string }
  | { readonly kind: 'local'; readonly url: string };

export interface RedriveCommand {
  readonly target: RedriveTarget;
  readonly request: RedriveRequest;
}

const USAGE =
  'usage: npm run redrive -- (--stage NAME | --stack NAME | --bucket NAME --stream NAME --group-stream NAME --accepted-messages NAME | --local URL) [--region REGION] [--dry-run] [--give-up]';

/** The command line, or an error that says what is wrong with it. */
export function parseRedriveCommand(args: readonly string[]): RedriveCommand {
  const { values, positionals } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: true,
    options: {
      stage: { type: 'string' },
      stack: { type: 'string' },
      bucket: { type: 'string' },
      stream: { type: 'string' },
      'group-stream': { type: 'string' },
      'accepted-messages': { type: 'string' },
      local: { type: 'string' },
      region: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'give-up': { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new Error(`Unexpected ${positionals.join(' ')}\n${USAGE}`);
  const request: RedriveRequest = { dryRun: values['dry-run'], giveUp: values['give-up'] };
  const region = values.region ? { region: values.region } : {};
  const targets = [values.stage, values.stack, values.bucket ?? values.stream ?? values['group-stream'] ?? values['accepted-messages'], values.local].filter((value) => value !== undefined);
  if (targets.length !== 1) throw new Error(`Name one target: --stage, --stack, --bucket with --stream and --accepted-messages, or --local\n${USAGE}`);
  if (values.local !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(values.local)) throw new Error(`--local takes the local HTTP API URL, e.g. http://127.0.0.1:3000, not ${values.local}`);
    return { target: { kind: 'local', url: values.local.replace(/\/+$/, '') }, request };
  }
  if (values.stage !== undefined) return { target: { kind: 'aws', stackName: stackNameOfStage(values.stage), ...region }, request };
  if (values.stack !== undefined) return { target: { kind: 'aws', stackName: values.stack, ...region }, request };
  const acceptedMessages = values['accepted-messages'];
  const groupStream = values['group-stream'];
  if (!values.bucket || !values.stream || !groupStream || !acceptedMessages) throw new Error(`--bucket, --stream, --group-stream and --accepted-messages go together\n${USAGE}`);
  return { target: { kind: 'awsNamed', bucket: values.bucket, stream: values.stream, groupStream, acceptedMessages, ...region }, request };
}

/** The bucket and stream names from the stack's outputs, through the CloudFormation API. */
export async function namesFromStack(
  stackName: string,
  region: string | undefined,
): Promise<{ bucket: string; stream: string; groupStream: string; acceptedMessages: string }> {
  const client = new CloudFormationClient(region ? { region } : {});
  const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = (Stacks[0]?.Outputs ?? []) as { OutputKey?: string; OutputValue?: string }[];
  return {
    bucket: outputValue(outputs, STACK_OUTPUTS.failedDeliveriesBucket, stackName),
    stream: outputValue(outputs, STACK_OUTPUTS.messageStream, stackName),
    groupStream: outputValue(outputs, STACK_OUTPUTS.groupStream, stackName),
    acceptedMessages: outputValue(outputs, STACK_OUTPUTS.acceptedMessagesTable, stackName),
  };
}

export async function runRedrive(command: RedriveCommand, log: (line: string) => void): Promise<RedriveReport> {
  const { target, request } = command;
  if (target.kind === 'local') {
    const response = await fetch(`${target.url}/local/redrive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const body = (await response.json().catch(() => ({}))) as RedriveReport & { message?: string };
    if (!response.ok) throw new Error(`${target.url} answered ${response.status}: ${body.message ?? 'no message'}`);
    return body;
  }
  const names = target.kind === 'aws' ? await namesFromStack(target.stackName, target.region) : target;
  const region = target.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('No AWS region: pass --region or set AWS_REGION');
  // Each failed record goes back to its conversation's stream (`putOnMessageStream`): both are named.
  const env = {
    [streams.messages.envVar]: names.stream,
    [streams.groupMessages.envVar]: names.groupStream,
    [tables.acceptedMessages.envVar]: names.acceptedMessages,
  };
  const deps = { clients: createClients({ region }), env, now: Date.now };
  return redriveFailedRecords(deps, { bucket: names.bucket, ...request, log });
}

export const summary = (report: RedriveReport, dryRun: boolean): string =>
  `${dryRun ? 'Dry run: would have ' : ''}replayed ${report.replayed}, failed-receipted ${report.failedReceipted}, ` +
  `expired ${report.expired}, revoked ${report.revoked}, left ${report.left} (from ${report.batches} failed batches)`;

async function main(): Promise<void> {
  let command: RedriveCommand;
  if (process.argv.includes('--help') || process.argv.includes('-h')) return console.log(USAGE);
  try {
    command = parseRedriveCommand(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const report = await runRedrive(command, (line) => console.log(line));
  console.log(summary(report, command.request.dryRun ?? false));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`Redrive failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
