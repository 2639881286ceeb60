import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { DlqDestinationConfig, IEventSourceDlq, IEventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';

/**
 * An S3 bucket as the on-failure destination of a Kinesis event source mapping: for each batch Lambda gives
 * up on, it writes one JSON object with the batch's records in it (`payload`), not only their shard and
 * sequence numbers as an SQS or SNS destination does. The records outlive the stream's 24 hours, and
 * `npm run redrive` puts them back (`lambdas/fanout/redrive.ts`).
 *
 * Unlike aws-cdk-lib's `S3OnFailureDestination`, which grants the function read, write and delete on the
 * whole bucket, this grants what Lambda's documentation asks of the execution role and nothing more:
 * `s3:PutObject` on the bucket's objects and `s3:ListBucket` on the bucket. The function can neither read
 * nor delete a failed batch.
 */
export class FailedBatchesBucketDestination implements IEventSourceDlq {
  constructor(private readonly bucket: IBucket) {}

  public bind(_target: IEventSourceMapping, targetHandler: IFunction): DlqDestinationConfig {
    targetHandler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }));
    targetHandler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    if (targetHandler.role) {
      Validations.of(targetHandler.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.bucket)}.Arn>/*]`,
        reason:
          'Lambda names each failed-batch object itself at run time (aws/lambda/<mapping>/<shard>/<date>/…); the ' +
          'grant is s3:PutObject only, on this one bucket: the function can neither read nor delete what it wrote.',
      });
    }
    return { destination: this.bucket.bucketArn };
  }
}

function logicalIdOf(bucket: IBucket): string {
  return String(Stack.of(bucket).resolve((bucket.node.defaultChild as CfnElement).logicalId));
}
