/**
 * An error as SNS reports it: the `Code` on the wire is what the SDK maps to an exception class
 * (`EndpointDisabled` → `EndpointDisabledException`), so callers catch the same names as on AWS.
 */
export class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }

  /** `Sender` faults are the caller's to fix; `Receiver` faults are ours. */
  get faultType(): 'Sender' | 'Receiver' {
    return this.status < 500 ? 'Sender' : 'Receiver';
  }
}

/** A missing or malformed request parameter, phrased as SNS phrases it. */
export function invalidParameter(parameter: string, reason?: string): SnsError {
  const message = `Invalid parameter: ${parameter}${reason ? ` Reason: ${reason}` : ''}`;
  return new SnsError('InvalidParameter', message, 400);
}

export function notFound(message: string): SnsError {
  return new SnsError('NotFound', message, 404);
}

export function endpointDisabled(): SnsError {
  return new SnsError('EndpointDisabled', 'Endpoint is disabled', 400);
}

export function invalidAction(action: string): SnsError {
  return new SnsError('InvalidAction', `The action ${action} is not valid for this endpoint.`, 400);
}

export function internalError(): SnsError {
  return new SnsError('InternalError', 'Internal error', 500);
}
