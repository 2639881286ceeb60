/**
 * The AWS SDK's default credential provider as a Lambda function needs it: Lambda puts the execution role's
 * credentials in the function's environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`), so the rest of the SDK's chain (ini files, SSO, process, web identity, container and
 * instance metadata, with the STS and SSO clients they bring, ~90 KB) never runs there. Every Lambda bundle
 * takes this module in place of `@aws-sdk/credential-provider-node` (an esbuild alias, lib/functions.ts);
 * the local runtime and tests keep the SDK's own chain.
 *
 * @example
 * const credentials = await defaultProvider()(); // { accessKeyId, secretAccessKey, sessionToken }
 */
import type { AwsCredentialIdentity } from '@smithy/types';

export const defaultProvider =
  (_init?: unknown) =>
  async (): Promise<AwsCredentialIdentity> => {
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
    if (!accessKeyId || !secretAccessKey) {
      throw new Error('No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): Lambda sets them from the execution role');
    }
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  };
