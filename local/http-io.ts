import type { IncomingMessage, ServerResponse } from 'node:http';

/** What {@link readBody} answers when the body is larger than allowed. */
export const tooLarge = Symbol('too large');

/**
 * Reads a request body, but stops (and answers {@link tooLarge}) as soon as it exceeds `limitBytes`, so
 * an oversized upload costs no more memory than the limit.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer | typeof tooLarge> {
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        // Drain the rest without keeping it, so the response can still be written on this socket.
        req.removeAllListeners('data');
        req.resume();
        resolve(tooLarge);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Answers with a JSON body, the way API Gateway answers its own errors (`{"message": "..."}`). */
export function sendJson(
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
