/**
 * Abuse of the verification routes on the local stack: SMS pumping (many numbers, from one address, in one
 * range, past the daily budget) and racing guesses at a code. Requests come from chosen loopback addresses
 * (127.0.0.0/8 all reach the gateway), which the local gateway reports as `sourceIp` as API Gateway does.
 */
import { request } from 'node:http';
import { startParleyLocal, type ParleyLocal } from '../../local/runtime';
import { call, newSecret } from '../support/device-client';

const HOUR = 3_600_000;
const LIMITS = { perSourceIpPerHour: 10, perNumberPrefixPerHour: 20, perDay: 40 };

let parley: ParleyLocal;
/** The handlers' clock: each test moves it to an hour (or day) of its own, so the windows start empty. */
let clock = Date.UTC(2026, 11, 1, 9, 0, 0);
beforeAll(async () => {
  parley = await startParleyLocal({ webSocketPort: 0, httpPort: 0, now: () => clock, smsLimits: LIMITS });
});
afterAll(async () => {
  await parley?.stop();
});

/** POSTs a JSON body to the local HTTP API from the loopback address `sourceIp`. */
function postFrom(sourceIp: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const url = new URL(path, parley.httpUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', localAddress: sourceIp, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const requestCode = (sourceIp: string, phoneNumber: string) => postFrom(sourceIp, '/v1/verification/code', { phoneNumber });
const smsSent = () => parley.emulators.sns.outbox.filter((delivery) => delivery.kind === 'sms').length;
const statuses = (answers: { status: number }[]) =>
  answers.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
/** A number of its own 6-digit prefix (`+44` and four digits of `range`), so only the limit under test is reached. */
const numberIn = (range: number, line: number) => `+44${String(7000 + range).padStart(4, '0')}${String(line).padStart(6, '0')}`;

describe('SMS limits', () => {
  it('sends to no more numbers from one address than its hourly limit, and refuses the rest with RATE_LIMITED', async () => {
    clock = Date.UTC(2026, 11, 1, 10, 15, 0);
    const before = smsSent();
    // Six times the limit, all at once: enough to race the counter.
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => requestCode('127.0.0.2', numberIn(i, 1))));
    expect(statuses(answers)).toEqual({ 202: LIMITS.perSourceIpPerHour, 429: 60 - LIMITS.perSourceIpPerHour });
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      // Until the end of the clock hour: 45 minutes.
      expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 45 * 60 });
    }
    expect(smsSent() - before).toBe(LIMITS.perSourceIpPerHour);
    // Another address is not held back by them, and the next hour the first may send again.
    expect((await requestCode('127.0.0.3', numberIn(500, 1))).status).toBe(202);
    clock += HOUR;
    expect((await requestCode('127.0.0.2', numberIn(501, 1))).status).toBe(202);
  });

  it('sends to no more numbers of one prefix than its hourly limit, whatever the addresses; a refusal costs its address nothing', async () => {
    clock = Date.UTC(2026, 11, 5, 13, 0, 0);
    const before = smsSent();
    const range = Array.from({ length: 30 }, (_, i) => requestCode(`127.0.1.${i + 1}`, numberIn(600, i)));
    const answers = await Promise.all(range);
    expect(statuses(answers)).toEqual({ 202: LIMITS.perNumberPrefixPerHour, 429: 30 - LIMITS.perNumberPrefixPerHour });
    expect(answers.find((answer) => answer.status === 429)!.body.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 3600 });
    expect(smsSent() - before).toBe(LIMITS.perNumberPrefixPerHour);

    // An address refused for the prefix gave its count back: it can still send its full hourly allowance elsewhere.
    for (let i = 0; i < LIMITS.perSourceIpPerHour; i++) {
      expect((await requestCode('127.0.2.1', numberIn(600, 100 + i))).status).toBe(429);
    }
    const elsewhere = await Promise.all(Array.from({ length: LIMITS.perSourceIpPerHour }, (_, i) => requestCode('127.0.2.1', numberIn(700 + i, 1))));
    expect(statuses(elsewhere)).toEqual({ 202: LIMITS.perSourceIpPerHour });
  });

  it('sends no more codes in a UTC day than the daily budget, and refuses until the next day', async () => {
    clock = Date.UTC(2026, 11, 2, 23, 30, 0);
    const before = smsSent();
    const sendOne = (i: number) => requestCode(`127.0.3.${i + 1}`, numberIn(1000 + i, 1));
    const answers = await Promise.all(Array.from({ length: LIMITS.perDay + 5 }, (_, i) => sendOne(i)));
    expect(statuses(answers)).toEqual({ 202: LIMITS.perDay, 429: 5 });
    expect(answers.find((answer) => answer.status === 429)!.body.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30 * 60 });
    expect(smsSent() - before).toBe(LIMITS.perDay);
    clock = Date.UTC(2026, 11, 3, 0, 0, 1);
    expect((await sendOne(100)).status).toBe(202);
  });
});

describe('verification codes', () => {
  /** Requests a code for a fresh number and reads it from the SMS. */
  async function codeFor(phoneNumber: string): Promise<string> {
    const since = Date.now();
    expect((await requestCode('127.0.4.1', phoneNumber)).status).toBe(202);
    const sms = await parley.emulators.sns.waitFor((d) => d.kind === 'sms' && d.to === phoneNumber && d.at >= since, 5000);
    return /(\d{6})/.exec(sms.message)![1]!;
  }
  const register = (phoneNumber: string, code: string) => call(parley, 'POST', '/v1/accounts', { body: { phoneNumber, code, deviceSecret: newSecret() } });

  it.each([
    ['in the middle of', 30],
    ['ahead of', 0],
  ])('compares at most three of 60 racing wrong guesses and the right one %s them; every later answer is EXPIRED', async (_, rightAt) => {
    clock = Date.UTC(2026, 11, 4, 10, rightAt);
    const phoneNumber = numberIn(2000 + rightAt, 1);
    const code = await codeFor(phoneNumber);
    const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
    const guesses = Array.from({ length: 60 }, (_, i) => wrong(i));
    guesses.splice(rightAt, 0, code);
    const answers = await Promise.all(guesses.map((guess) => register(phoneNumber, guess)));
    const right = answers[rightAt]!;
    const wrongAnswers = answers.filter((_, i) => i !== rightAt);

    const invalid = wrongAnswers.filter((answer) => answer.status === 403);
    expect(invalid.every((answer) => answer.body.error.code === 'INVALID_CODE')).toBe(true);
    expect(wrongAnswers.filter((answer) => answer.status !== 403).every((answer) => answer.status === 410 && answer.body.error.code === 'EXPIRED')).toBe(true);
    const compared = invalid.length + (right.status === 201 ? 1 : 0);
    expect(compared).toBeLessThanOrEqual(3);
    // Each compared guess spent its own attempt.
    expect(new Set(invalid.map((answer) => answer.body.error.attemptsLeft)).size).toBe(invalid.length);
    if (right.status === 201) {
      expect(invalid.length).toBeLessThanOrEqual(2);
    } else {
      // The right code came after the third attempt: it is told exactly what the wrong ones were told.
      expect(right.status).toBe(410);
      expect(right.body.error).toEqual(wrongAnswers.find((answer) => answer.status === 410)!.body.error);
      expect(invalid).toHaveLength(3);
    }
    // Once the attempts are spent or the code used, the right code is refused like any other.
    expect((await register(phoneNumber, code)).status).toBe(410);
  });

  it('registers once with a code: the same code again is EXPIRED', async () => {
    clock = Date.UTC(2026, 11, 4, 11, 0);
    const phoneNumber = numberIn(2500, 1);
    const code = await codeFor(phoneNumber);
    expect((await register(phoneNumber, code)).status).toBe(201);
    const again = await register(phoneNumber, code);
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('EXPIRED');
  });
});
