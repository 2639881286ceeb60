/**
 * The wire format of SNS (the "awsQuery" protocol, which @aws-sdk/client-sns speaks): requests are form
 * POSTs carrying `Action`, `Version` and flattened parameters; answers are XML in the 2010-03-31 namespace.
 */
import { randomUUID } from 'node:crypto';
import { invalidParameter, type SnsError } from './sns-error';

const NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';

export interface QueryRequest {
  readonly action: string;
  readonly params: URLSearchParams;
}

/** A result member is either a scalar or a map (rendered as `<entry><key/><value/></entry>` elements). */
export type ResultValue = string | Readonly<Record<string, string>>;
export type ActionResult = Readonly<Record<string, ResultValue>>;

export function parseQueryRequest(body: string): QueryRequest {
  const params = new URLSearchParams(body);
  return { action: params.get('Action') ?? '', params };
}

/** A parameter the action cannot do without. */
export function requiredParam(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (!value) throw invalidParameter(name);
  return value;
}

/**
 * The entries of a flattened list or map, in order: `Attributes.entry.1.key=Enabled&Attributes.entry.1.value=true`
 * becomes `[{ key: 'Enabled', value: 'true' }]`; nested members keep their dotted path (`Value.StringValue`).
 */
export function readEntries(params: URLSearchParams, member: string): Record<string, string>[] {
  const prefix = `${member}.entry.`;
  const entries = new Map<number, Record<string, string>>();
  for (const [name, value] of params) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const dot = rest.indexOf('.');
    const index = Number(rest.slice(0, dot));
    if (dot < 0 || !Number.isInteger(index)) continue;
    const entry = entries.get(index) ?? {};
    entry[rest.slice(dot + 1)] = value;
    entries.set(index, entry);
  }
  return [...entries.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

/** A `String → String` map parameter such as `Attributes`. */
export function readMap(params: URLSearchParams, member: string): Record<string, string> {
  return Object.fromEntries(readEntries(params, member).map((entry) => [entry.key ?? '', entry.value ?? '']));
}

/** The `<{Action}Response>` document; actions without output (DeleteEndpoint) render no `Result` element. */
export function renderResult(action: string, result: ActionResult | void): string {
  const members = Object.entries(result ?? {}).map(([name, value]) => member(name, value));
  const body = result ? element(`${action}Result`, members.join('')) : '';
  return `<${action}Response xmlns="${NAMESPACE}">${body}${responseMetadata()}</${action}Response>`;
}

export function renderError(error: SnsError): string {
  const detail = [
    element('Type', error.faultType),
    element('Code', escapeXml(error.code)),
    element('Message', escapeXml(error.message)),
  ].join('');
  const requestId = element('RequestId', randomUUID());
  return `<ErrorResponse xmlns="${NAMESPACE}">${element('Error', detail)}${requestId}</ErrorResponse>`;
}

function member(name: string, value: ResultValue): string {
  if (typeof value === 'string') return element(name, escapeXml(value));
  const entries = Object.entries(value).map(([key, entryValue]) =>
    element('entry', element('key', escapeXml(key)) + element('value', escapeXml(entryValue))),
  );
  return element(name, entries.join(''));
}

function responseMetadata(): string {
  return element('ResponseMetadata', element('RequestId', randomUUID()));
}

function element(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
