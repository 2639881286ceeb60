import { randomApiId } from './api-gateway-ids';

/** Where an emulated API "lives" in AWS terms: what its ARNs, events and domain names are made of. */
export interface ExecuteApi {
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
}

/** The parts a gateway's options may set; the rest get local defaults. */
export interface ExecuteApiOptions {
  /** Defaults to `AWS_REGION`, then `us-east-1`. */
  readonly region?: string;
  /** Defaults to `000000000000`, the account local AWS emulators use. */
  readonly accountId?: string;
  /** Defaults to a random id in API Gateway's format. */
  readonly apiId?: string;
}

export function resolveExecuteApi(options: ExecuteApiOptions): ExecuteApi {
  return {
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
    apiId: options.apiId ?? randomApiId(),
  };
}

/**
 * An `execute-api` ARN, as authorizers receive it (`methodArn`, `routeArn`) and match policies against:
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{rest}`.
 */
export function executeApiArn(api: ExecuteApi, stage: string, rest: string): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${stage}/${rest}`;
}
