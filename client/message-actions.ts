/**
 * Replies, reactions, edits, deletes for everyone and disappearing timers, as this device applies them to
 * its {@link MessageLog}: the same rules for what it sends (checked before sending, refused with a
 * {@link MessageActionError}) and for what it receives (an action that breaks them is reported, not applied).
 * The rules: an action names a message of its own chat; only the author edits (within 15 minutes) or
 * deletes for everyone (within 48 hours); one reaction per user per message, replaced or removed.
 */
import { REVOKE_WINDOW_MS } from '../lambdas/protocol/frames';
import { groupIdOfConversation } from '../lambdas/send/conversations';
import { DISAPPEARING_TIMERS, MAX_REACTION_CHARS, type DisappearingTimer, type MessageContent, type MessageRef } from './content';
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

/** An earlier text of an edited message, as this device had it until the edit that replaced it. */
export interface EarlierText {
  readonly text: string;
  /** serverTs of the edit that replaced it. */
  readonly replacedAt: number;
}

/** Whether a user is an admin of a group, as this device knows the group (or reads it from the server). */
export type IsGroupAdmin = (groupId: string, userId: string) => Promise<boolean>;

export class MessageActions {
  constructor(
    private readonly log: MessageLog,
    private readonly now: () => number,
    private readonly isGroupAdmin: IsGroupAdmin,
  ) {}

  /** The logged message `ref` names, for an action this device is about to send; UNKNOWN_MESSAGE if none. */
  async target(ref: MessageRef): Promise<LoggedMessage> {
    const target = await this.log.get(ref);
    if (!target) throw new MessageActionError('UNKNOWN_MESSAGE', 'This device has no such message');
    return target;
  }

  /**
   * Refuses (throws) a timer this device's user may not set on the chat: not one of the timers
   * (BAD_TIMER), or in a group of which the user is no admin (NOT_ADMIN).
   */
  async checkTimer(author: string, conversationId: string, seconds: number): Promise<DisappearingTimer> {
    if (!DISAPPEARING_TIMERS.includes(seconds as DisappearingTimer)) {
      throw new MessageActionError('BAD_TIMER', `A disappearing timer is one of ${DISAPPEARING_TIMERS.join(', ')} seconds`);
    }
    const refusal = await this.timerRefusal(author, conversationId);
    if (refusal) throw new MessageActionError('NOT_ADMIN', refusal);
    return seconds as DisappearingTimer;
  }

  /** Refuses (throws) an action this device's user may not send now; answers the chat it goes to. */
  async check(author: string, content: MessageContent): Promise<string> {
    const emoji = content.reaction?.emoji;
    if (emoji && emoji.length > MAX_REACTION_CHARS) {
      throw new MessageActionError('REACTION_TOO_LONG', `A reaction is one emoji: at most ${MAX_REACTION_CHARS} characters`);
    }
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
    if (content.disappearing) {
      const refusal = own ? undefined : await this.timerRefusal(author, conversationId);
      return refusal ?? void (await this.log.setTimer(conversationId, content.disappearing.seconds));
    }
    const ref = targetOf(author, content);
    if (!ref) {
      if (content.unsupported || content.senderKey || content.provisioning || content.provisioningRequest) return undefined;
      await this.log.put({
        author,
        msgId,
        conversationId,
        serverTs,
        excerpt: excerptOf(content.text),
        ...(content.text !== undefined ? { text: content.text } : {}),
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
    else if (content.edit) {
      // The same edit handled twice (a redelivery) leaves one entry: history holds texts this one replaced.
      if (target.text === content.edit.text && target.edited) return undefined;
      const earlier = { text: target.text ?? target.excerpt, replacedAt: serverTs };
      const history = [...(target.history ?? []), earlier];
      await this.log.put({ ...target, excerpt: excerptOf(content.edit.text), text: content.edit.text, edited: true, history });
    }
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

  /** The texts an edited message had before, oldest first; [] for a message never edited; UNKNOWN_MESSAGE if none. */
  async editHistory(ref: MessageRef): Promise<readonly EarlierText[]> {
    return (await this.target(ref)).history ?? [];
  }

  timerOf(conversationId: string): Promise<number> {
    return this.log.timerOf(conversationId);
  }

  /** Why `author` may not set the chat's timer, if it may not: in a group, only admins do. */
  private async timerRefusal(author: string, conversationId: string): Promise<string | undefined> {
    const groupId = groupIdOfConversation(conversationId);
    if (groupId === undefined || (await this.isGroupAdmin(groupId, author))) return undefined;
    return 'Only an admin sets a group’s disappearing timer';
  }

  private refusal(target: LoggedMessage, content: MessageContent, at: number): { code: 'EDIT_WINDOW_PASSED' | 'DELETE_WINDOW_PASSED'; message: string } | undefined {
    if (content.edit && at - target.serverTs > EDIT_WINDOW_MS) return { code: 'EDIT_WINDOW_PASSED', message: 'A message can be edited for 15 minutes after it was sent' };
    if (content.deleteForEveryone && at - target.serverTs > REVOKE_WINDOW_MS) {
      return { code: 'DELETE_WINDOW_PASSED', message: 'A message can be deleted for everyone for 48 hours after it was sent' };
    }
    return undefined;
  }
}
