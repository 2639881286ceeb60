import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The only interface the emulators listen on, so nothing outside this machine can reach them. */
export const LOOPBACK = '127.0.0.1';

/** The base URL of a service on the loopback interface, e.g. `http://127.0.0.1:41234`. */
export function loopbackUrl(port: number): string {
  return `http://${LOOPBACK}:${port}`;
}

/**
 * Starts `server` on the loopback interface and resolves with its base URL. Port 0 (the default) picks a
 * free port, so parallel test files never collide.
 */
export function listenOnLoopback(server: Server, port = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve(loopbackUrl((server.address() as AddressInfo).port));
    });
  });
}

/**
 * Stops accepting connections and resolves once in-flight requests have ended. Since Node 19 `close()`
 * also drops idle keep-alive sockets, so pooled SDK connections do not hold the server open.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
