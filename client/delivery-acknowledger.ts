/**
 * Acknowledges handled frames with DELIVERED, by their cursors, in batches: what is handled within a
 * short window, up to the protocol's 100, goes in one frame (each DELIVERED is a billed message and an
 * invocation, so a longer window makes fewer of them; the sender's ticks wait as long).
 * A message may come with its chat-list preview; a batch carries the newest one per conversation only,
 * as many as the frame's preview limit takes (a preview left out leaves an older one in the chat list).
 * Group messages are acknowledged per group by cursor: the newest handled one with none held before it
 * (a message held for its sender's key must come again at the next SYNC if the connection drops).
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

export class DeliveryAcknowledger {
  private pending: Pending[] = [];
  /** Handled group messages not acknowledged yet, per group conversation. */
  private groups = new Map<string, HandledGroupMessage[]>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param heldFrom the cursor of the oldest message of a group held back (waiting for its sender's key),
   *   if any: no cursor at or past it is sent. @default none is ever held
   */
  constructor(
    private readonly send: (cursors: string[], previews: MessagePreview[], groups: GroupCursor[]) => Promise<void>,
    private readonly windowMs = DEFAULT_DELIVERED_WINDOW_MS,
    private readonly maxIds = 100,
    private readonly heldFrom: (conversationId: string) => string | undefined = () => undefined,
  ) {}

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
    this.schedule();
  }

  private schedule(): void {
    if (this.pending.length >= this.maxIds || this.groups.size >= MAX_GROUP_CURSORS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Sends what is pending now. A failed send is dropped: the queue hands those messages out again on the next SYNC. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    let groups = this.groupCursors();
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

  /** Per group, the newest handled cursor before any held message; later ones wait for the held one. */
  private groupCursors(): GroupCursor[] {
    const cursors: GroupCursor[] = [];
    // Group previews share the frame's preview budget with the 1:1 ones (which take it first).
    let chars = this.pending.slice(0, this.maxIds).reduce((sum, item) => sum + (item.preview?.ciphertext.length ?? 0), 0);
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

  /** Forgets what is pending (the connection is gone: a SYNC will hand it out again). */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.groups.clear();
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
