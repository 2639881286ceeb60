import type { Server } from 'node:http';

/** Listens on 127.0.0.1 only (a local gateway is never reachable from the network); port 0 picks a free port. */
export function listenLocally(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops listening and drops idle keep-alive sockets (the AWS SDK keeps them), so close does not wait on them. */
export function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** True when nothing listens on `port` of 127.0.0.1 (checked by listening on it for a moment). */
export async function isPortFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export interface PortChoice {
  /** The port to listen on; 0 lets the system pick a free one. */
  readonly port: number;
  /** Why it is not the default, for the log. */
  readonly note?: string;
}

/**
 * The port for one of `npm start`'s servers: the one asked for, which must be free (else an error that names
 * the port and the flag that changes it), or the default, and any free port when the default is taken.
 */
export async function choosePort(what: string, flag: string, asked: string | undefined, defaultPort: number): Promise<PortChoice> {
  if (asked !== undefined) {
    const port = Number(asked);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} ${asked} is not a port number (0 to 65535; 0 picks any free port)`);
    if (port !== 0 && !(await isPortFree(port))) {
      throw new Error(`port ${port} (${flag}, the ${what}) is in use by another program: choose another with ${flag} N, or ${flag} 0 for any free port`);
    }
    return { port };
  }
  if (await isPortFree(defaultPort)) return { port: defaultPort };
  return { port: 0, note: `port ${defaultPort} is taken, so the ${what} listens on a free port (${flag} N chooses one)` };
}
