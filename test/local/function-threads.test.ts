import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';

describe('startParleyLocal with functionThreads', () => {
  it('refuses a clock of its own, which cannot cross to the threads', async () => {
    await expect(startParleyLocal({ webSocketPort: 0, httpPort: 0, functionThreads: 1, now: () => 0 })).rejects.toThrow('`now` needs `functionThreads: 0`');
  });

  it('refuses instrumentClients without threadInstrumentation, which would miss every request of the handlers', async () => {
    await expect(startParleyLocal({ webSocketPort: 0, httpPort: 0, functionThreads: 1, instrumentClients: (client) => client })).rejects.toThrow(
      'give `threadInstrumentation` too',
    );
  });

  it('refuses a number of threads that is not a whole number ≥ 1', async () => {
    await expect(startParleyLocal({ webSocketPort: 0, httpPort: 0, functionThreads: 1.5 })).rejects.toThrow('functionThreads must be a whole number of threads');
  });

  describe('when a thread dies', () => {
    let parley: ParleyLocal;
    let folder: string;
    const logged: string[] = [];
    let invoke: ((event: unknown) => Promise<unknown>) | undefined;

    beforeAll(async () => {
      folder = await mkdtemp(path.join(tmpdir(), 'parley-thread-exit-'));
      parley = await startParleyLocal({
        webSocketPort: 0,
        httpPort: 0,
        functionThreads: 1,
        threadInstrumentation: { module: path.join(__dirname, '../fixtures/thread-exit.ts'), setup: path.join(folder, 'exited'), onReport: () => undefined },
        intercept: (id, run) => {
          if (id === 'requestVerificationCode') invoke = run;
          return run;
        },
        log: (line) => logged.push(line),
      });
    });
    afterAll(async () => {
      await parley?.stop();
      await rm(folder, { recursive: true, force: true });
    });

    let numbers = 0;
    /** A code request for a number of its own each time (a second one for a number is refused for a while). */
    const codeRequest = () => ({
      version: '2.0',
      routeKey: 'POST /v1/verification/code',
      rawPath: '/v1/verification/code',
      headers: { 'content-type': 'application/json' },
      requestContext: { http: { method: 'POST', path: '/v1/verification/code', sourceIp: '127.0.0.1' }, requestId: 'r1', routeKey: 'POST /v1/verification/code', timeEpoch: Date.now() },
      body: JSON.stringify({ phoneNumber: `+1415555199${numbers++}` }),
      isBase64Encoded: false,
    });

    it('fails the invocations it was running, and the next run on a thread started in its place', async () => {
      await expect(invoke!(codeRequest())).rejects.toThrow('The function thread exited (code 3) during the invocation');
      expect(logged).toContain('A function thread exited (code 3); starting another');
      const answer = (await invoke!(codeRequest())) as { statusCode: number };
      expect(answer.statusCode).toBeLessThan(300);
    }, 30_000);

    it('rejects an event that cannot be copied to a thread, and goes on', async () => {
      await expect(invoke!({ notJson: () => undefined })).rejects.toThrow(/could not be cloned/);
      expect(((await invoke!(codeRequest())) as { statusCode: number }).statusCode).toBeLessThan(300);
    }, 30_000);
  });
});
