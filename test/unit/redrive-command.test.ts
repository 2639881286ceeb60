import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { namesFromStack, parseRedriveCommand, summary } from '../../bin/redrive';
import { outputValue, STACK_OUTPUTS } from '../../lib/stack-outputs';

describe('npm run redrive', () => {
  it('reads its target and flags', () => {
    expect(parseRedriveCommand(['--stage', 'dev', '--region', 'eu-west-1', '--dry-run'])).toEqual({
      target: { kind: 'aws', stackName: 'Parley-dev', region: 'eu-west-1' },
      request: { dryRun: true, giveUp: false },
    });
    expect(parseRedriveCommand(['--stack', 'Parley'])).toEqual({
      target: { kind: 'aws', stackName: 'Parley' },
      request: { dryRun: false, giveUp: false },
    });
    expect(parseRedriveCommand(['--bucket', 'b', '--stream', 's', '--group-stream', 'g', '--accepted-messages', 'a'])).toEqual({
      target: { kind: 'awsNamed', bucket: 'b', stream: 's', groupStream: 'g', acceptedMessages: 'a' },
      request: { dryRun: false, giveUp: false },
    });
    expect(parseRedriveCommand(['--local', 'http://127.0.0.1:3000/', '--give-up'])).toEqual({
      target: { kind: 'local', url: 'http://127.0.0.1:3000' },
      request: { dryRun: false, giveUp: true },
    });
  });

  it.each([
    [[], /Name one target/],
    [['--stage', 'prod', '--local', 'http://127.0.0.1:3000'], /Name one target/],
    [['--stage', 'prod', '--stack', 'Parley'], /Name one target/],
    [['--bucket', 'b'], /--bucket, --stream, --group-stream and --accepted-messages go together/],
    [['--bucket', 'b', '--stream', 's'], /--bucket, --stream, --group-stream and --accepted-messages go together/],
    // A failed group record goes back to the groups' stream: without its name, redrive could not put it anywhere.
    [['--bucket', 'b', '--stream', 's', '--accepted-messages', 'a'], /--bucket, --stream, --group-stream and --accepted-messages go together/],
    [['--local', 'localhost:3000'], /--local takes the local HTTP API URL/],
    [['--stage', 'Parley', 'now'], /Unexpected now/],
    [['--stage', 'Parley', '--force'], /Unknown option '--force'/],
  ])('refuses %j with a clear error', (args, message) => {
    expect(() => parseRedriveCommand(args)).toThrow(message);
  });

  it('finds the bucket and stream among the stack outputs, whose keys end in a hash', () => {
    const outputs = [
      { OutputKey: 'ParleyWebSocketUrl1A2B3C4D', OutputValue: 'wss://x' },
      { OutputKey: `Parley${STACK_OUTPUTS.failedDeliveriesBucket}5E6F7A8B`, OutputValue: 'parley-failed' },
    ];
    expect(outputValue(outputs, STACK_OUTPUTS.failedDeliveriesBucket, 'Parley')).toBe('parley-failed');
    expect(() => outputValue(outputs, STACK_OUTPUTS.messageStream, 'Parley')).toThrow(/Stack Parley has no output MessageStreamName/);
  });

  it('reads the bucket and stream names from the deployed stack', async () => {
    const cloudFormation = mockClient(CloudFormationClient);
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Parley-dev' }).resolves({
      Stacks: [
        {
          StackName: 'Parley-dev',
          CreationTime: new Date(0),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [
            { OutputKey: `Parley${STACK_OUTPUTS.failedDeliveriesBucket}5E6F7A8B`, OutputValue: 'parley-dev-failed' },
            { OutputKey: `Parley${STACK_OUTPUTS.messageStream}1C2D3E4F`, OutputValue: 'parley-dev-messages' },
            { OutputKey: `Parley${STACK_OUTPUTS.groupStream}2D3E4F5A`, OutputValue: 'parley-dev-group-messages' },
            { OutputKey: `Parley${STACK_OUTPUTS.acceptedMessagesTable}9A8B7C6D`, OutputValue: 'parley-dev-accepted' },
          ],
        },
      ],
    });
    await expect(namesFromStack('Parley-dev', 'eu-west-1')).resolves.toEqual({
      bucket: 'parley-dev-failed',
      stream: 'parley-dev-messages',
      groupStream: 'parley-dev-group-messages',
      acceptedMessages: 'parley-dev-accepted',
    });
    cloudFormation.restore();
  });

  it('prints the counts', () => {
    const report = { batches: 2, replayed: 3, failedReceipted: 1, expired: 0, revoked: 1, left: 0 };
    expect(summary(report, false)).toBe('replayed 3, failed-receipted 1, expired 0, revoked 1, left 0 (from 2 failed batches)');
    expect(summary(report, true)).toMatch(/^Dry run: would have replayed 3/);
  });
});
