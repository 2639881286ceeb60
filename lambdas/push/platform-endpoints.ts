/**
 * Devices' endpoints in SNS. SNS keeps one endpoint per push token on a platform application; the device
 * that registered a token last owns its endpoint, and says so in the endpoint's `CustomUserData`. A token
 * can move between devices (an app reinstalled and signed in to another account): then only its owner
 * deletes the endpoint, so the device it moved away from cannot take it from the one it moved to.
 */
import {
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  EndpointDisabledException,
  GetEndpointAttributesCommand,
  InvalidParameterException,
  NotFoundException,
  SetEndpointAttributesCommand,
} from '@aws-sdk/client-sns';
import type { Deps } from '../runtime/deps';
import { logger } from '../runtime/observability';

/** What an endpoint's `CustomUserData` holds: the device that owns it. */
export const endpointOwner = (userId: string, deviceId: number): string => `${userId}.${deviceId}`;

/** SNS names the endpoint a token already has when asked to create it with other attributes. */
const EXISTING_ENDPOINT = /Endpoint (arn:\S+) already exists with the same [Tt]oken/;

/**
 * The endpoint of `token` on the platform application, made this device's and enabled: created, or the
 * one SNS has for the token already, even if disabled or owned by another device.
 */
export async function ensureEndpoint(deps: Deps, applicationArn: string, token: string, owner: string): Promise<string> {
  const endpointArn = await createEndpoint(deps, applicationArn, token, owner);
  // An existing endpoint may be disabled (the push service refused the token once) or another device's.
  await deps.clients.sns.send(
    new SetEndpointAttributesCommand({
      EndpointArn: endpointArn,
      Attributes: { Token: token, Enabled: 'true', CustomUserData: owner },
    }),
  );
  return endpointArn;
}

async function createEndpoint(deps: Deps, applicationArn: string, token: string, owner: string): Promise<string> {
  try {
    const { EndpointArn } = await deps.clients.sns.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: applicationArn, Token: token, CustomUserData: owner }),
    );
    if (!EndpointArn) throw new Error('SNS created a platform endpoint but returned no EndpointArn');
    return EndpointArn;
  } catch (error) {
    const existing = error instanceof InvalidParameterException ? EXISTING_ENDPOINT.exec(error.message)?.[1] : undefined;
    if (!existing) throw error;
    return existing;
  }
}

/**
 * Whether a publish failed because the endpoint is of no more use: SNS disabled it (the push service
 * reported the token invalid) or it no longer exists.
 */
export function isDeadEndpoint(error: unknown): boolean {
  if (error instanceof EndpointDisabledException || error instanceof NotFoundException) return true;
  // A publish to a deleted endpoint is refused as an invalid TargetArn.
  return error instanceof InvalidParameterException && /TargetArn|No endpoint found/i.test(error.message);
}

/**
 * Deletes the endpoint if `owner` still owns it. Best effort: a failure is logged, and leaves an endpoint
 * that costs nothing, is reused if the token registers again, and is disabled by SNS once the token dies.
 */
export async function releaseEndpoint(deps: Deps, endpointArn: string, owner: string): Promise<void> {
  try {
    const { Attributes } = await deps.clients.sns.send(new GetEndpointAttributesCommand({ EndpointArn: endpointArn }));
    if (Attributes?.CustomUserData !== owner) return;
    await deps.clients.sns.send(new DeleteEndpointCommand({ EndpointArn: endpointArn }));
  } catch (error) {
    if (error instanceof NotFoundException) return;
    logger.warn('Push endpoint not deleted', { error: error as Error });
  }
}
