/**
 * SigV4 for services that check no signature: dynalite, kinesalite and the local `@connections` API read
 * the `Authorization` header's shape (algorithm, credential scope, signed headers, a date) and never the
 * signature. The SDK's signer spends some 40% of a request's client-side CPU (a new `SignatureV4` per
 * request, its signing key and canonical request hashed with HMAC-SHA256: a DocumentClient GetItem took
 * 210 µs signed and 125 µs stamped, against a stub handler) on a signature nobody checks; this one writes
 * the same header with the signature left zero. The rest of the middleware (the credentials
 * resolved, endpoint, retries, serialization) runs as on AWS.
 *
 * Used with the in-process transport only (`ParleyLocalOptions.awsTransport`); `loopback` keeps the SDK's
 * own signer, byte for byte what AWS receives.
 *
 * @example
 * const db = new DynamoDBClient({ region, endpoint, credentials, httpAuthSchemes: unverifiedSigV4 });
 */
import type { AuthSchemes } from '../../lambdas/runtime/clients';

interface SignableRequest {
  headers: Record<string, string>;
}

const SIGV4 = 'aws.auth#sigv4';
const UNCHECKED_SIGNATURE = '0'.repeat(64);

/** `20261202T170000Z`: SigV4's basic ISO 8601 form. */
const amzDate = (now: Date) => now.toISOString().replace(/[-:]|\.\d{3}/g, '');

/** Writes `x-amz-date` and an `Authorization` header of SigV4's form, credential scope included, unsigned. */
export async function stampUnverifiedSigV4<R extends SignableRequest>(
  request: R,
  identity: { readonly accessKeyId?: string },
  signingProperties: Readonly<Record<string, unknown>>,
): Promise<R> {
  const date = amzDate(new Date());
  // The auth option names the service and region (`name`, `region`); an endpoint's auth scheme may override them.
  const region = signingProperties.signingRegion ?? signingProperties.region;
  const service = signingProperties.signingName ?? signingProperties.name;
  const scope = [identity.accessKeyId, date.slice(0, 8), region, service, 'aws4_request'];
  request.headers['x-amz-date'] = date;
  request.headers.authorization = `AWS4-HMAC-SHA256 Credential=${scope.join('/')}, SignedHeaders=host;x-amz-date, Signature=${UNCHECKED_SIGNATURE}`;
  return request;
}

/**
 * For a client's `httpAuthSchemes`: SigV4, the scheme every one of these services names, with its identity
 * (the client's credentials) resolved as the SDK resolves it, and {@link stampUnverifiedSigV4} as its signer.
 */
export const unverifiedSigV4 = [
  {
    schemeId: SIGV4,
    identityProvider: (config: { getIdentityProvider(schemeId: string): unknown }) => config.getIdentityProvider(SIGV4),
    signer: { sign: stampUnverifiedSigV4 },
  },
] as unknown as AuthSchemes;

/** The services the in-process transport reaches, none of which checks a signature. */
export const inProcessAuthSchemes = { dynamodb: unverifiedSigV4, kinesis: unverifiedSigV4, connections: unverifiedSigV4 } as const;
