/**
 * Ids of the stack outputs that tools outside the stack read (`bin/redrive.ts`). CloudFormation names an
 * output by its logical id, which is this id after the ids of the constructs above it, followed by a hash,
 * so readers match by the id it contains. No CDK import here: the command-line tools load this file.
 */
export const STACK_OUTPUTS = {
  failedDeliveriesBucket: 'FailedDeliveriesBucketName',
  messageStream: 'MessageStreamName',
  // Not "GroupMessageStreamName": readers match by substring, and that would also match `messageStream`.
  groupStream: 'GroupStreamName',
  acceptedMessagesTable: 'AcceptedMessagesTableName',
} as const;

/** The value of the output whose key contains `id`, or an error that names what is missing. */
export function outputValue(outputs: readonly { OutputKey?: string; OutputValue?: string }[], id: string, stackName: string): string {
  const matches = outputs.filter((output) => output.OutputKey?.includes(id) && output.OutputValue);
  if (matches.length !== 1) {
    throw new Error(
      matches.length === 0
        ? `Stack ${stackName} has no output ${id}: deploy this version of Parley first`
        : `Stack ${stackName} has ${matches.length} outputs named like ${id}; pass the names explicitly`,
    );
  }
  return matches[0]!.OutputValue!;
}

/**
 * The stack a stage deploys as unless `parley:stackName` says otherwise: `Parley-dev`, `Parley-prod`.
 * Here, with no CDK import, so that `npm run redrive -- --stage NAME` finds the stack the app made.
 */
export const stackNameOfStage = (stageName: string): string => `Parley-${stageName}`;
