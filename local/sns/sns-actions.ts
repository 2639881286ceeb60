/** The SNS actions Parley uses, over the in-memory platform endpoints and the outbox. */
import { randomUUID } from 'node:crypto';
import { maskPhoneNumber } from './mask-phone-number';
import type { Outbox } from './outbox';
import type { PlatformEndpoints } from './platform-endpoints';
import { readEntries, readMap, requiredParam, type ActionResult } from './query-protocol';
import { endpointDisabled, invalidParameter } from './sns-error';

export interface SnsActionContext {
  readonly endpoints: PlatformEndpoints;
  readonly outbox: Outbox;
  /**
   * Where SMS bodies are shown to the developer (the only way to read a verification code locally), and
   * the pushes that would reach devices.
   */
  readonly log: (line: string) => void;
  readonly now: () => number;
}

/** An action answers with its result members, or with nothing (`void`) for actions without output. */
export type SnsAction = (params: URLSearchParams) => ActionResult | void;

const E164 = /^\+[1-9]\d{1,14}$/;

export function snsActions(context: SnsActionContext): ReadonlyMap<string, SnsAction> {
  const { endpoints } = context;
  return new Map<string, SnsAction>([
    ['Publish', (params) => publish(params, context)],
    ['CreatePlatformApplication', (params) => createPlatformApplication(params, endpoints)],
    ['CreatePlatformEndpoint', (params) => createPlatformEndpoint(params, endpoints)],
    ['GetEndpointAttributes', (params) => ({ Attributes: endpoints.get(endpointArn(params)).attributes })],
    ['SetEndpointAttributes', (params) => endpoints.setAttributes(endpointArn(params), readMap(params, 'Attributes'))],
    ['DeleteEndpoint', (params) => endpoints.delete(endpointArn(params))],
  ]);
}

function createPlatformApplication(params: URLSearchParams, endpoints: PlatformEndpoints): ActionResult {
  const name = requiredParam(params, 'Name');
  return { PlatformApplicationArn: endpoints.createApplication(name, requiredParam(params, 'Platform')) };
}

function createPlatformEndpoint(params: URLSearchParams, endpoints: PlatformEndpoints): ActionResult {
  const requested = readMap(params, 'Attributes');
  const customUserData = params.get('CustomUserData');
  if (customUserData !== null) requested.CustomUserData = customUserData;
  const applicationArn = requiredParam(params, 'PlatformApplicationArn');
  return { EndpointArn: endpoints.createEndpoint(applicationArn, requiredParam(params, 'Token'), requested) };
}

function endpointArn(params: URLSearchParams): string {
  return requiredParam(params, 'EndpointArn');
}

/** Publish to exactly one destination: a phone number (SMS) or a platform endpoint (push). */
function publish(params: URLSearchParams, { endpoints, outbox, log, now }: SnsActionContext): ActionResult {
  const message = params.get('Message');
  if (!message) throw invalidParameter('Message', 'Empty message');
  const structured = params.get('MessageStructure') === 'json' ? parseMessageStructure(message) : undefined;
  const phoneNumber = params.get('PhoneNumber');
  const targetArn = params.get('TargetArn');
  const destinations = [phoneNumber, targetArn, params.get('TopicArn')].filter(Boolean).length;
  if (destinations !== 1 || !(phoneNumber || targetArn)) {
    throw invalidParameter('TargetArn or PhoneNumber', 'give exactly one; topics are not emulated locally');
  }
  const attributes = messageAttributes(params);
  if (phoneNumber) {
    // The number stays out of the error message too: callers tend to log SDK errors.
    if (!E164.test(phoneNumber)) throw invalidParameter('PhoneNumber', 'not an E.164 phone number');
    const payload = structured ? (structured.sms ?? structured.default) : message;
    outbox.record({ kind: 'sms', to: phoneNumber, message, payload, attributes, at: now() });
    log(`SMS to ${maskPhoneNumber(phoneNumber)}: ${message}`);
  } else if (targetArn) {
    const endpoint = endpoints.target(targetArn);
    if (endpoint.attributes.Enabled !== 'true') throw endpointDisabled();
    const payload = structured ? (structured[endpoint.platform] ?? structured.default) : message;
    outbox.record({ kind: 'push', to: targetArn, message, payload, attributes, at: now() });
    log(`Push to ${endpoint.platform} endpoint ${targetArn.slice(targetArn.lastIndexOf('/') + 1)}: ${payload}`);
  }
  return { MessageId: randomUUID() };
}

/**
 * With `MessageStructure=json` SNS wants a JSON object of strings, one per protocol or platform, with at
 * least a `default` one.
 */
function parseMessageStructure(message: string): Record<string, string> & { default: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw invalidParameter('Message Structure', 'JSON message body failed to parse');
  }
  if (typeof parsed !== 'object' || parsed === null || !('default' in parsed)) {
    throw invalidParameter('Message Structure', 'No default entry in JSON message body');
  }
  if (Object.values(parsed).some((entry) => typeof entry !== 'string')) {
    throw invalidParameter('Message Structure', 'every entry of the JSON message body must be a string');
  }
  return parsed as Record<string, string> & { default: string };
}

function messageAttributes(params: URLSearchParams): Record<string, string> {
  return Object.fromEntries(
    readEntries(params, 'MessageAttributes').map((entry) => [
      entry.Name ?? '',
      entry['Value.StringValue'] ?? entry['Value.BinaryValue'] ?? '',
    ]),
  );
}
