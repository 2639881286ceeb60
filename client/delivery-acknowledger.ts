/**
 * Acknowledges handled frames with DELIVERED, by their cursors, in batches: what is handled within a
 * short window, up to the protocol's 100, goes in one frame (each DELIVERED is a billed message and an
 * invocation, so a longer window makes fewer of them; the sender's ticks wait as long).
 * A message may come with its chat-list preview; a batch carries the newest one per conversation only,
 * as many as the frame's preview limit takes (a preview left out leaves an older one in the chat list).
 * Group messages are acknowledged per group by cursor: the newest handled one with none held before it
 * (a message held for its sender's key must come again at the next SYNC if the connection drops).
 * Group messages a SYNC brought are not acknowledged on their own: their cursors ride on the device's
 * next SYNC (`takeGroupCursors`), or on a DELIVERED sent sooner, and wait at most `groupWindowMs` while
 * connected; a connection that drops keeps them for the SYNC of the next. A return is then one SYNC and
 * its answer, and the sender's "delivered" tick comes with the device's next frame.
 */
import { idOfCursor, MAX_GROUP_CURSORS, MAX_PREVIEW_CHARS_PER_DELIVERED, type GroupCursor, type MessagePreview } from '../lambdas/protocol/frames';

/** A delivered message's preview for this user's chat list. */
export interface DeliveredPreview {
  readonly conversationId: string;
  readonly serverTs: number;
  /** Base64, sealed under the chat-list key. */
  readonly ciphertext: string;
}

interface Pending {
  readonly cursor: string;
  readonly preview?: DeliveredPreview;
}

interface HandledGroupMessage {
  readonly cursor: string;
  readonly ciphertext?: string;
}

/** How long handled frames wait for more before they are acknowledged together. */
export const DEFAULT_DELIVERED_WINDOW_MS = 250;
/**
 * How long the group messages a SYNC brought wait, while connected, for a frame to ride on before a
 * DELIVERED of their own: about as long as a phone woken by a push stays connected in the background.
 */
export const DEFAULT_GROUP_DELIVERED_WINDOW_MS = 30_000;

export class DeliveryAcknowledger {
  private pending: Pending[] = [];
  /** Handled group messages not acknowledged yet, per group conversation. */
  private groups = new Map<string, HandledGroupMessage[]>();
  private timer: NodeJS.Timeout | undefined;
  private groupTimer: NodeJS.Timeout | undefined;
  /** Whether group messages handled now came by SYNC: they wait for the next SYNC (or `groupWindowMs`). */
  private syncing = false;

  /**
   * @param heldFrom the cursor of the oldest message of a group held back (waiting for its sender's key),
   *   if any: no cursor at or past it is sent. @default none is ever held
   */
  constructor(
    private readonly send: (cursors: string[], previews: MessagePreview[], groups: GroupCursor[]) => Promise<void>,
    private readonly windowMs = DEFAULT_DELIVERED_WINDOW_MS,
    private readonly maxIds = 100,
    private readonly heldFrom: (conversationId: string) => string | undefined = () => undefined,
    private readonly groupWindowMs = DEFAULT_GROUP_DELIVERED_WINDOW_MS,
  ) {}

  /** The connection is SYNCing (true) or online (false): group messages handled while SYNCing wait for the next SYNC. */
  setSyncing(syncing: boolean): void {
    this.syncing = syncing;
  }

  /** Acknowledges the frame at `cursor`; a message's preview goes with it. */
  add(cursor: string, preview?: DeliveredPreview): void {
    this.pending.push(preview ? { cursor, preview } : { cursor });
    this.schedule();
  }

  /** A group message (PUSH `cursor`) handled, with its preview for this user's chat list if it has one. */
  addGroup(conversationId: string, cursor: string, preview?: DeliveredPreview): void {
    const handled = this.groups.get(conversationId) ?? [];
    handled.push(preview ? { cursor, ciphertext: preview.ciphertext } : { cursor });
    this.groups.set(conversationId, handled);
    if (!this.syncing) return this.schedule();
    if (this.groups.size >= MAX_GROUP_CURSORS) return this.flush();
    this.groupTimer ??= setTimeout(() => this.flush(), this.groupWindowMs);
  }

  /**
   * The group cursors to send with a SYNC, taken out of what is pending (a SYNC carries no 1:1 preview,
   * so its group previews have the frame's budget to themselves); `restore` them if the SYNC fails.
   */
  takeGroupCursors(): GroupCursor[] {
    // What stays pending waits for a held message, whose handling schedules it again.
    this.clearGroupTimer();
    return this.groupCursors(0);
  }

  /** Group cursors a failed SYNC did not deliver: pending again, behind anything newer handled since. */
  restore(cursors: readonly GroupCursor[]): void {
    for (const { conversationId, cursor, ciphertext } of cursors) {
      this.groups.set(conversationId, [{ cursor, ...(ciphertext !== undefined ? { ciphertext } : {}) }, ...(this.groups.get(conversationId) ?? [])]);
    }
    if (cursors.length) this.groupTimer ??= setTimeout(() => this.flush(), this.groupWindowMs);
  }

  private clearGroupTimer(): void {
    clearTimeout(this.groupTimer);
    this.groupTimer = undefined;
  }

  private schedule(): void {
    if (this.pending.length >= this.maxIds || this.groups.size >= MAX_GROUP_CURSORS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Sends what is pending now. A failed send is dropped: the queue hands those messages out again on the next SYNC. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Group cursors ride on this DELIVERED, within the preview budget its 1:1 previews leave.
    this.clearGroupTimer();
    let groups = this.groupCursors(this.pending.slice(0, this.maxIds).reduce((sum, item) => sum + (item.preview?.ciphertext.length ?? 0), 0));
    while (this.pending.length || groups.length) {
      const batch = this.pending.splice(0, this.maxIds);
      void this.send(
        batch.map((item) => item.cursor),
        newestPreviews(batch),
        groups,
      ).catch(() => undefined);
      groups = [];
    }
  }

  /** Per group, the newest handled cursor before any held message; later ones wait for the held one. `chars`: the frame's preview budget already used. */
  private groupCursors(chars: number): GroupCursor[] {
    const cursors: GroupCursor[] = [];
    for (const [conversationId, handled] of this.groups) {
      const held = this.heldFrom(conversationId);
      const sendable = handled.filter((message) => held === undefined || message.cursor < held);
      const waiting = handled.filter((message) => held !== undefined && message.cursor >= held);
      if (waiting.length) this.groups.set(conversationId, waiting);
      else this.groups.delete(conversationId);
      const newest = sendable.reduce<HandledGroupMessage | undefined>((a, b) => (a && a.cursor > b.cursor ? a : b), undefined);
      if (!newest) continue;
      const withPreview = newest.ciphertext !== undefined && chars + newest.ciphertext.length <= MAX_PREVIEW_CHARS_PER_DELIVERED;
      if (withPreview) chars += newest.ciphertext!.length;
      cursors.push({ conversationId, cursor: newest.cursor, ...(withPreview ? { ciphertext: newest.ciphertext } : {}) });
    }
    return cursors;
  }

  /**
   * The connection is gone: forgets the queued frames pending (the next SYNC hands them out again) but
   * keeps the group cursors, which go with that SYNC (the device has those messages stored).
   */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clearGroupTimer();
    this.pending = [];
  }
}

/** The newest preview of each conversation in the batch, newest first, within the frame's limit. */
function newestPreviews(batch: readonly Pending[]): MessagePreview[] {
  const newest = new Map<string, Required<Pending>>();
  for (const item of batch) {
    if (!item.preview) continue;
    const kept = newest.get(item.preview.conversationId);
    if (!kept || kept.preview.serverTs < item.preview.serverTs) newest.set(item.preview.conversationId, item as Required<Pending>);
  }
  const previews: MessagePreview[] = [];
  let chars = 0;
  for (const { cursor, preview } of [...newest.values()].sort((a, b) => b.preview.serverTs - a.preview.serverTs)) {
    if (chars + preview.ciphertext.length > MAX_PREVIEW_CHARS_PER_DELIVERED) continue;
    chars += preview.ciphertext.length;
    previews.push({ msgId: idOfCursor(cursor), ciphertext: preview.ciphertext });
  }
  return previews;
}
