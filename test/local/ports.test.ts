/** `npm start` and its ports: a taken default moves to a free port, a taken port asked for is a clear error. */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { choosePort } from '../../local/local-server';

let busy: Server;
let busyPort: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise((resolve) => busy.close(resolve)));

describe('choosePort', () => {
  it('keeps a free default, and moves off a taken default to any free port, saying so', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freePort = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    expect(await choosePort('HTTP API', '--http-port', undefined, freePort)).toEqual({ port: freePort });
    expect(await choosePort('HTTP API', '--http-port', undefined, busyPort)).toEqual({
      port: 0,
      note: `port ${busyPort} is taken, so the HTTP API listens on a free port (--http-port N chooses one)`,
    });
  });

  it('refuses a taken port that was asked for, naming it and the flag; refuses a word that is no port', async () => {
    await expect(choosePort('WebSocket API', '--ws-port', String(busyPort), 3001)).rejects.toThrow(
      `port ${busyPort} (--ws-port, the WebSocket API) is in use by another program: choose another with --ws-port N, or --ws-port 0 for any free port`,
    );
    await expect(choosePort('HTTP API', '--http-port', 'abc', 3000)).rejects.toThrow('--http-port abc is not a port number (0 to 65535; 0 picks any free port)');
    expect(await choosePort('HTTP API', '--http-port', '0', 3000)).toEqual({ port: 0 });
  });
});

/** Runs `npm start`'s script; resolves with its output and status once it exits, or once `until` matches (then stops it with SIGINT). */
function npmStart(args: string[], until?: RegExp): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../bin/parley-local.ts'), ...args]);
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // One Ctrl-C: a second, sent on a later chunk of output (the rest of the banner, the stop's log),
      // would meet the default handler once the first has been taken, and kill the process mid-stop.
      if (!interrupted && until?.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('npm start', () => {
  it('exits 1 with one line when a port asked for is taken', async () => {
    const { status, stderr } = await npmStart(['--http-port', String(busyPort), '--ws-port', '0']);
    expect(status).toBe(1);
    expect(stderr).toBe(`Parley failed to start: port ${busyPort} (--http-port, the HTTP API) is in use by another program: choose another with --http-port N, or --http-port 0 for any free port\n`);
  }, 30_000);

  it('prints the URLs it listens on and how to point the CLI at them, and stops cleanly on Ctrl-C', async () => {
    const { status, stdout } = await npmStart(['--http-port', '0', '--ws-port', '0'], /export PARLEY_HTTP_URL=.*\n/);
    expect(status).toBe(0);
    const [, http, ws] = /export PARLEY_HTTP_URL=(http:\/\/127\.0\.0\.1:\d+) PARLEY_WS_URL=(ws:\/\/127\.0\.0\.1:\d+\/local)/.exec(stdout)!;
    expect(stdout).toContain(`  WebSocket API  ${ws}\n  HTTP API       ${http}\n`);
  }, 60_000);
});
