/**
 * Acknowledges handled messages with DELIVERED in batches: what is handled within a short window, up to
 * the protocol's 100 ids, goes in one frame (each DELIVERED is a billed message and an invocation).
 * A message may come with its chat-list preview; a batch carries the newest one per conversation only,
 * as many as the frame's preview limit takes (a preview left out leaves an older one in the chat list).
 */
import { MAX_PREVIEW_CHARS_PER_DELIVERED, type MessagePreview } from '../lambdas/protocol/frames';

/** A delivered message's preview for this user's chat list. */
export interface DeliveredPreview {
  readonly conversationId: string;
  readonly serverTs: number;
  /** Base64, sealed under the chat-list key. */
  readonly ciphertext: string;
}

interface Pending {
  readonly msgId: string;
  readonly preview?: DeliveredPreview;
}

export class DeliveryAcknowledger {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (msgIds: string[], previews: MessagePreview[]) => Promise<void>,
    private readonly windowMs = 10,
    private readonly maxIds = 100,
  ) {}

  add(msgId: string, preview?: DeliveredPreview): void {
    this.pending.push(preview ? { msgId, preview } : { msgId });
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
        batch.map((item) => item.msgId),
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
  for (const { msgId, preview } of [...newest.values()].sort((a, b) => b.preview.serverTs - a.preview.serverTs)) {
    if (chars + preview.ciphertext.length > MAX_PREVIEW_CHARS_PER_DELIVERED) continue;
    chars += preview.ciphertext.length;
    previews.push({ msgId, ciphertext: preview.ciphertext });
  }
  return previews;
}
