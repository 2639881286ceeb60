/**
 * Acknowledges handled frames with DELIVERED, by their cursors, in batches: what is handled within a
 * short window, up to the protocol's 100, goes in one frame (each DELIVERED is a billed message and an
 * invocation, so a longer window makes fewer of them; the sender's ticks wait as long).
 * A message may come with its chat-list preview; a batch carries the newest one per conversation only,
 * as many as the frame's preview limit takes (a preview left out leaves an older one in the chat list).
 */
import { idOfCursor, MAX_PREVIEW_CHARS_PER_DELIVERED, type MessagePreview } from '../lambdas/protocol/frames';

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

/** How long handled frames wait for more before they are acknowledged together. */
export const DEFAULT_DELIVERED_WINDOW_MS = 250;

export class DeliveryAcknowledger {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (cursors: string[], previews: MessagePreview[]) => Promise<void>,
    private readonly windowMs = DEFAULT_DELIVERED_WINDOW_MS,
    private readonly maxIds = 100,
  ) {}

  /** Acknowledges the frame at `cursor`; a message's preview goes with it. */
  add(cursor: string, preview?: DeliveredPreview): void {
    this.pending.push(preview ? { cursor, preview } : { cursor });
    if (this.pending.length >= this.maxIds) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Sends what is pending now. A failed send is dropped: the queue hands those messages out again on the next SYNC. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.maxIds);
      void this.send(
        batch.map((item) => item.cursor),
        newestPreviews(batch),
      ).catch(() => undefined);
    }
  }

  /** Forgets what is pending (the connection is gone: a SYNC will hand it out again). */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
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
