/**
 * Mobile push as SNS models it: a platform application (one per push service and app) owns endpoints,
 * one per device token. Kept in memory: push registrations are cheap to redo after a restart.
 */
import { randomUUID } from 'node:crypto';
import { invalidParameter, notFound } from './sns-error';

/** The platforms SNS offers platform applications for. */
const PLATFORMS = new Set([
  'ADM',
  'APNS',
  'APNS_SANDBOX',
  'APNS_VOIP',
  'APNS_VOIP_SANDBOX',
  'BAIDU',
  'GCM',
  'MACOS',
  'MACOS_SANDBOX',
  'MPNS',
  'WNS',
]);

export interface PlatformEndpoint {
  readonly arn: string;
  readonly applicationArn: string;
  /** The application's platform (`APNS`, `GCM`, …): which entry of a JSON-structured message it gets. */
  readonly platform: string;
  /** `Token`, `Enabled` ('true' | 'false') and, if given, `CustomUserData`, as SNS returns them. */
  attributes: Record<string, string>;
}

export class PlatformEndpoints {
  /** Application ARN → its platform. */
  private readonly applications = new Map<string, string>();
  private readonly endpoints = new Map<string, PlatformEndpoint>();

  /** @param arnPrefix `arn:aws:sns:{region}:{account}`, the prefix of every ARN this registry makes. */
  constructor(private readonly arnPrefix: string) {}

  /** Registers an application; the same name and platform give the same ARN again. */
  createApplication(name: string, platform: string): string {
    if (!/^[\w.-]{1,256}$/.test(name)) throw invalidParameter('Name');
    if (!PLATFORMS.has(platform)) throw invalidParameter('Platform', `unsupported platform ${platform}`);
    const arn = `${this.arnPrefix}:app/${platform}/${name}`;
    this.applications.set(arn, platform);
    return arn;
  }

  /**
   * Registers a device token. Like SNS it is idempotent per token: the same token with the same (or no)
   * attributes returns the existing endpoint, even a disabled one; the same token with different
   * attributes is refused, naming the existing endpoint.
   */
  createEndpoint(applicationArn: string, token: string, requested: Record<string, string>): string {
    const platform = this.applications.get(applicationArn);
    if (!platform) throw notFound('PlatformApplication does not exist');
    const existing = [...this.endpoints.values()].find(
      (endpoint) => endpoint.applicationArn === applicationArn && endpoint.attributes.Token === token,
    );
    if (existing) {
      const same = Object.entries(requested).every(([name, value]) => existing.attributes[name] === value);
      if (!same) {
        const reason = `Endpoint ${existing.arn} already exists with the same Token, but different attributes.`;
        throw invalidParameter('Token', reason);
      }
      return existing.arn;
    }
    const arn = `${applicationArn.replace(':app/', ':endpoint/')}/${randomUUID()}`;
    this.endpoints.set(arn, { arn, applicationArn, platform, attributes: { Enabled: 'true', ...requested, Token: token } });
    return arn;
  }

  /** The endpoint, or SNS's `NotFound` when there is none. */
  get(arn: string): PlatformEndpoint {
    const endpoint = this.endpoints.get(arn);
    if (!endpoint) throw notFound('Endpoint does not exist');
    return endpoint;
  }

  /** The endpoint a publish targets; SNS reports a missing one as an invalid `TargetArn`. */
  target(arn: string): PlatformEndpoint {
    const endpoint = this.endpoints.get(arn);
    if (!endpoint) throw invalidParameter('TargetArn', 'No endpoint found for the target arn specified');
    return endpoint;
  }

  setAttributes(arn: string, attributes: Record<string, string>): void {
    const endpoint = this.get(arn);
    if (attributes.Enabled !== undefined && !['true', 'false'].includes(attributes.Enabled)) {
      throw invalidParameter('Attributes', 'Enabled must be true or false');
    }
    endpoint.attributes = { ...endpoint.attributes, ...attributes };
  }

  /** Idempotent, as in SNS: deleting an unknown endpoint succeeds. */
  delete(arn: string): void {
    this.endpoints.delete(arn);
  }
}
