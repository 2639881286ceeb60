/** JSON over HTTPS to Parley's HTTP API, with device credentials when the route needs them. */
import { encodeDeviceCredentials, type DeviceCredentials } from '../lambdas/protocol/credentials';
import { ParleyApiError } from './errors';

export class HttpClient {
  constructor(
    private readonly baseUrl: string,
    private readonly credentials?: DeviceCredentials,
  ) {}

  /** Answers the parsed body of a 2xx answer; anything else throws {@link ParleyApiError}. */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.credentials ? { authorization: encodeDeviceCredentials(this.credentials) } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text ? parseJson(text) : undefined;
    if (response.ok && parsed !== NOT_JSON) return parsed as T;
    const error = parsed === NOT_JSON ? undefined : (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    const { code = httpCode(response.status), message = `${method} ${path} answered ${response.status}`, ...details } = error ?? {};
    throw new ParleyApiError(code, message, response.status, details);
  }
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

const httpCode = (status: number) => (status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
