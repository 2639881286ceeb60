/** What {@link withinDeadline} answers when the work took too long. */
export const timedOut = Symbol('timed out');

/**
 * Waits for `work`, but no longer than `ms`: API Gateway stops waiting for an integration after its
 * timeout (29 s for WebSocket APIs, 30 s for HTTP APIs) and answers the client on its own, while the
 * Lambda function may run on.
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof timedOut> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof timedOut>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs an integration so that a synchronous throw becomes a rejected promise like an asynchronous one. */
export function invoke<E, R>(integration: (event: E) => Promise<R>, event: E): Promise<R> {
  return Promise.resolve().then(() => integration(event));
}
