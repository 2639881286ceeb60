/**
 * Replies, reactions, edits, deletes for everyone and disappearing timers, as this device applies them to
 * its {@link MessageLog}: the same rules for what it sends (checked before sending, refused with a
 * {@link MessageActionError}) and for what it receives (an action that breaks them is reported, not applied).
 * The rules: an action names a message of its own chat; only the author edits (within 15 minutes) or
 * deletes for everyone (within 48 hours); one reaction per user per message, replaced or removed.
 */
import { REVOKE_WINDOW_MS } from '../lambdas/protocol/frames';
import type { MessageContent, MessageRef } from './content';
import { MessageActionError } from './errors';
import { excerptOf, type LoggedMessage, type MessageLog } from './message-log';

/** How long after sending its author may edit a message. */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;

/** What a received content is, for the app: `message` (text, bytes, media, a reply) or an action on the chat. */
export type MessageKind = 'message' | 'reaction' | 'edit' | 'delete' | 'disappearing' | 'unsupported';

export function kindOf(content: MessageContent): MessageKind {
  if (content.unsupported) return 'unsupported';
  if (content.reaction) return 'reaction';
  if (content.edit) return 'edit';
  if (content.deleteForEveryone) return 'delete';
  if (content.disappearing) return 'disappearing';
  return 'message';
}

/** A content applied to the log: by whom, in which chat, and when the server accepted it (or, before sending, now). */
export interface LoggedContent {
  readonly author: string;
  readonly msgId: string;
  readonly conversationId: string;
  readonly serverTs: number;
  readonly content: MessageContent;
  /** Sent by this account: read as soon as sent. */
  readonly own: boolean;
}

/** The message an action acts on, if it has one. */
function targetOf(author: string, content: MessageContent): MessageRef | undefined {
  if (content.reaction) return content.reaction;
  if (content.edit) return { author, msgId: content.edit.msgId };
  if (content.deleteForEveryone) return { author, msgId: content.deleteForEveryone.msgId };
  return undefined;
}

export class MessageActions {
  constructor(
    private readonly log: MessageLog,
    private readonly now: () => number,
  ) {}

  /** The logged message `ref` names, for an action this device is about to send; UNKNOWN_MESSAGE if none. */
  async target(ref: MessageRef): Promise<LoggedMessage> {
    const target = await this.log.get(ref);
    if (!target) throw new MessageActionError('UNKNOWN_MESSAGE', 'This device has no such message');
    return target;
  }

  /** Refuses (throws) an action this device's user may not send now; answers the chat it goes to. */
  async check(author: string, content: MessageContent): Promise<string> {
    const ref = targetOf(author, content) ?? content.replyTo;
    if (!ref) throw new Error('not an action on a message');
    if ((content.edit || content.deleteForEveryone) && ref.author !== author) {
      throw new MessageActionError('NOT_OWN_MESSAGE', 'Only its author may edit or delete a message for everyone');
    }
    const target = await this.target(ref);
    const refusal = this.refusal(target, content, this.now());
    if (refusal) throw new MessageActionError(refusal.code, refusal.message);
    return target.conversationId;
  }

  /**
   * Applies a content sent or received: logs a message, or applies an action to the message it names.
   * Answers why an action was not applied (a received one broke the rules); idempotent, as a message may
   * be handled twice.
   */
  async apply({ author, msgId, conversationId, serverTs, content, own }: LoggedContent): Promise<string | undefined> {
    if (content.disappearing) return void (await this.log.setTimer(conversationId, content.disappearing.seconds));
    const ref = targetOf(author, content);
    if (!ref) {
      if (content.unsupported || content.senderKey || content.provisioning || content.provisioningRequest) return undefined;
      await this.log.put({
        author,
        msgId,
        conversationId,
        serverTs,
        excerpt: excerptOf(content.text),
        ...(own ? { readAt: this.now() } : {}),
        ...(content.expiresInSeconds ? { expiresInSeconds: content.expiresInSeconds } : {}),
        reactions: {},
      });
      return undefined;
    }
    const target = await this.log.get(ref);
    // A delete for a message this device never got (the server dropped its queued copy) has nothing to remove.
    if (!target) return content.deleteForEveryone ? undefined : 'the action names no message this device has';
    if (target.conversationId !== conversationId) return 'the action names a message of another chat';
    const refusal = this.refusal(target, content, serverTs);
    if (refusal) return refusal.message;
    if (content.deleteForEveryone) await this.log.delete(ref);
    else if (content.edit) await this.log.put({ ...target, excerpt: excerptOf(content.edit.text), edited: true });
    else {
      const { [author]: _replaced, ...others } = target.reactions;
      const emoji = content.reaction!.emoji;
      await this.log.put({ ...target, reactions: emoji === null ? others : { ...others, [author]: emoji } });
    }
    return undefined;
  }

  /** This user read the chat up to `upToMsgId`: the disappearing timers of those messages start. */
  async read(conversationId: string, upToMsgId: string): Promise<void> {
    const chat = (await this.log.all()).filter((message) => message.conversationId === conversationId);
    const upTo = chat.find((message) => message.msgId === upToMsgId);
    if (!upTo) return;
    const readAt = this.now();
    await Promise.all(chat.filter((m) => m.readAt === undefined && m.serverTs <= upTo.serverTs).map((m) => this.log.put({ ...m, readAt })));
  }

  /** Removes the read messages whose disappearing timer ran out; answers them, by chat. */
  async expire(): Promise<Map<string, MessageRef[]>> {
    const now = this.now();
    const expired = new Map<string, MessageRef[]>();
    for (const message of await this.log.all()) {
      if (message.readAt === undefined || !message.expiresInSeconds || message.readAt + message.expiresInSeconds * 1000 > now) continue;
      await this.log.delete(message);
      expired.set(message.conversationId, [...(expired.get(message.conversationId) ?? []), { author: message.author, msgId: message.msgId }]);
    }
    return expired;
  }

  timerOf(conversationId: string): Promise<number> {
    return this.log.timerOf(conversationId);
  }

  private refusal(target: LoggedMessage, content: MessageContent, at: number): { code: 'EDIT_WINDOW_PASSED' | 'DELETE_WINDOW_PASSED'; message: string } | undefined {
    if (content.edit && at - target.serverTs > EDIT_WINDOW_MS) return { code: 'EDIT_WINDOW_PASSED', message: 'A message can be edited for 15 minutes after it was sent' };
    if (content.deleteForEveryone && at - target.serverTs > REVOKE_WINDOW_MS) {
      return { code: 'DELETE_WINDOW_PASSED', message: 'A message can be deleted for everyone for 48 hours after it was sent' };
    }
    return undefined;
  }
}
