import { randomUUID } from 'node:crypto';
import {
  DeliveredFrame,
  GroupSendFrame,
  MAX_ACKNOWLEDGED,
  MAX_CIPHERTEXT_CHARS,
  MAX_ENVELOPES,
  MAX_PREVIEW_BYTES,
  MAX_PREVIEW_CHARS_PER_DELIVERED,
  MAX_QUEUE_SECONDS,
  RevokeFrame,
  SendFrame,
  SyncFrame,
} from '../../lambdas/protocol/frames';
import { webSocketLimits } from '../../lambdas/protocol/limits';

const BOB = '0d6f3b5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
/** Base64 of `bytes` bytes, padded as a client encodes it. */
const base64Of = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');
const send = (preview: string) => ({
  action: 'SEND',
  msgId: randomUUID(),
  conversationId: 'direct:a:b',
  to: BOB,
  seq: 1,
  envelopes: [{ userId: BOB, deviceId: 1, registrationId: 7, type: 'message', ciphertext: 'AAAA' }],
  preview,
});
const issuesOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (result.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);

const groupSend = () => ({ action: 'GROUP_SEND', msgId: randomUUID(), conversationId: `group:${BOB}`, seq: 1, groupVersion: 1, ciphertext: 'AAAA' });

describe.each([
  ['SEND', SendFrame, () => send(base64Of(8))],
  ['GROUP_SEND', GroupSendFrame, groupSend],
] as const)('%s expiresInSeconds and control, REVOKE', (_action, schema, frame) => {
  it('takes a timer from 1 s to 30 days, and refuses 0, a fraction or a second more', () => {
    const timed = (expiresInSeconds: number) => ({ ...frame(), expiresInSeconds });
    expect(schema.safeParse(timed(1)).success).toBe(true);
    expect(schema.safeParse(timed(MAX_QUEUE_SECONDS)).success).toBe(true);
    for (const wrong of [0, 1.5, MAX_QUEUE_SECONDS + 1]) expect(issuesOf(schema.safeParse(timed(wrong)))[0]).toMatch(/^expiresInSeconds: /);
  });

  it('takes control only as true, and a REVOKE only with a UUID', () => {
    expect(schema.safeParse({ ...frame(), control: true }).success).toBe(true);
    expect(schema.safeParse({ ...frame(), control: false }).success).toBe(false);
    expect(RevokeFrame.safeParse({ action: 'REVOKE', msgId: randomUUID() }).success).toBe(true);
    expect(issuesOf(RevokeFrame.safeParse({ action: 'REVOKE', msgId: 'x' }))[0]).toMatch(/^msgId: /);
  });
});

describe('SEND preview', () => {
  it('takes a preview of exactly 1,024 bytes, and refuses one byte more, naming the field', () => {
    expect(SendFrame.safeParse(send(base64Of(MAX_PREVIEW_BYTES))).success).toBe(true);
    expect(issuesOf(SendFrame.safeParse(send(base64Of(MAX_PREVIEW_BYTES + 1))))).toEqual(['preview: a preview is at most 1024 bytes']);
  });

  it('counts decoded bytes, so unpadded base64 cannot slip past the limit', () => {
    expect(SendFrame.safeParse(send('A'.repeat(1366))).success).toBe(true); // 1,024 bytes
    expect(SendFrame.safeParse(send('A'.repeat(1367))).success).toBe(false); // 1,025 bytes
  });

  it('keeps the largest SEND, with a preview, under API Gateway’s 128 KB', () => {
    const each = MAX_CIPHERTEXT_CHARS / MAX_ENVELOPES;
    const envelopes = Array.from({ length: MAX_ENVELOPES }, (_, i) => ({ userId: BOB, deviceId: i + 1, registrationId: 7, type: 'prekey', ciphertext: 'A'.repeat(Math.floor(each) + (i === 0 ? MAX_CIPHERTEXT_CHARS % MAX_ENVELOPES : 0)) }));
    const largest = { ...send(base64Of(MAX_PREVIEW_BYTES)), requestId: 'r'.repeat(64), conversationId: 'c'.repeat(128), seq: Number.MAX_SAFE_INTEGER, envelopes };
    expect(SendFrame.safeParse(largest).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(largest))).toBeLessThan(webSocketLimits.messageBytes);
  });

  it('refuses a preview that is not base64', () => {
    expect(issuesOf(SendFrame.safeParse(send('not base64!')))).toEqual(['preview: base64 ciphertext']);
  });
});

describe('DELIVERED previews', () => {
  /** A DELIVERED of the frames of these msgIds (their cursors), with these previews. */
  const delivered = (msgIds: string[], previews: { msgId: string; ciphertext: string }[]) =>
    DeliveredFrame.safeParse({ action: 'DELIVERED', cursors: msgIds.map(cursorOf), previews });
  const cursorOf = (msgId: string) => `1764417600000#${msgId}`;

  it('takes the cursors of queued frames only, 1 to 100 of them', () => {
    const cursors = Array.from({ length: MAX_ACKNOWLEDGED + 1 }, () => cursorOf(randomUUID()));
    expect(DeliveredFrame.safeParse({ action: 'DELIVERED', cursors: cursors.slice(0, MAX_ACKNOWLEDGED) }).success).toBe(true);
    expect(issuesOf(DeliveredFrame.safeParse({ action: 'DELIVERED', cursors }))).toEqual(['cursors: Too big: expected array to have <=100 items']);
    expect(issuesOf(DeliveredFrame.safeParse({ action: 'DELIVERED', cursors: [] }))).toEqual(['cursors: acknowledges nothing: give cursors or groups']);
    expect(issuesOf(DeliveredFrame.safeParse({ action: 'DELIVERED', cursors: [randomUUID(), `176441760000#${randomUUID()}`] }))).toEqual([
      'cursors.0: a cursor of a queued frame',
      'cursors.1: a cursor of a queued frame',
    ]);
    // The frame names cursors now, not msgIds.
    expect(DeliveredFrame.safeParse({ action: 'DELIVERED', msgIds: [randomUUID()] }).success).toBe(false);
  });

  it('takes group acknowledgements on SYNC as on DELIVERED: 1 to 100 groups, each once, their previews within the frame budget', () => {
    const group = (n: number, ciphertext?: string) => ({ conversationId: `group:${n}`, cursor: cursorOf(randomUUID()), ...(ciphertext ? { ciphertext } : {}) });
    const sync = (groups: object[]) => SyncFrame.safeParse({ action: 'SYNC', groups });
    expect(sync(Array.from({ length: 100 }, (_, n) => group(n))).success).toBe(true);
    expect(issuesOf(sync(Array.from({ length: 101 }, (_, n) => group(n))))).toEqual(['groups: Too big: expected array to have <=100 items']);
    expect(issuesOf(sync([]))).toEqual(['groups: Too small: expected array to have >=1 items']);
    const twice = group(1);
    expect(issuesOf(sync([twice, twice]))).toEqual(['groups: two cursors for the same group']);
    expect(issuesOf(sync([{ ...group(1), conversationId: 'direct:a:b' }]))).toEqual(['groups.0.conversationId: a group conversationId']);
    // 97 previews of 1 KiB (1,368 base64 characters each) are more than one frame carries.
    const preview = base64Of(MAX_PREVIEW_BYTES);
    const many = Array.from({ length: Math.ceil(MAX_PREVIEW_CHARS_PER_DELIVERED / preview.length) + 1 }, (_, n) => group(n, preview));
    expect(issuesOf(sync(many))).toEqual([`groups: the previews carry more than ${MAX_PREVIEW_CHARS_PER_DELIVERED} base64 characters in total`]);
    expect(sync(many.slice(0, Math.floor(MAX_PREVIEW_CHARS_PER_DELIVERED / preview.length))).success).toBe(true);
  });

  it('takes at most one preview for each acknowledged msgId', () => {
    const [a, b] = [randomUUID(), randomUUID()];
    expect(delivered([a, b], [{ msgId: b, ciphertext: 'AAAA' }]).success).toBe(true);
    expect(issuesOf(delivered([a], [{ msgId: b, ciphertext: 'AAAA' }]))).toEqual(['previews: a preview for a msgId this DELIVERED does not acknowledge']);
    expect(issuesOf(delivered([a], [{ msgId: a, ciphertext: 'AAAA' }, { msgId: a, ciphertext: 'BBBB' }]))).toEqual(['previews: two previews for the same msgId']);
  });

  it('refuses a preview over 1,024 bytes, naming it', () => {
    const msgId = randomUUID();
    expect(issuesOf(delivered([msgId], [{ msgId, ciphertext: base64Of(MAX_PREVIEW_BYTES + 1) }]))).toEqual(['previews.0.ciphertext: a preview is at most 1024 bytes']);
  });

  it('takes 96 KiB of previews in one frame and refuses one character more; the largest frame stays under 128 KB', () => {
    // The largest DELIVERED: 100 cursors, each with a preview, together at the limit.
    const msgIds = Array.from({ length: MAX_ACKNOWLEDGED }, () => randomUUID());
    const each = Math.floor(MAX_PREVIEW_CHARS_PER_DELIVERED / msgIds.length);
    const previews = (extra: number) =>
      msgIds.map((msgId, i) => ({ msgId, ciphertext: 'A'.repeat(i > 0 ? each : MAX_PREVIEW_CHARS_PER_DELIVERED - each * (msgIds.length - 1) + extra) }));
    const atLimit = { action: 'DELIVERED', requestId: 'r'.repeat(64), cursors: msgIds.map(cursorOf), previews: previews(0) };
    expect(DeliveredFrame.safeParse(atLimit).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(atLimit))).toBeLessThan(webSocketLimits.messageBytes);
    expect(issuesOf(delivered(msgIds, previews(1)))).toEqual([
      `previews: the previews carry more than ${MAX_PREVIEW_CHARS_PER_DELIVERED} base64 characters in total`,
    ]);
  });
});
