/**
 * The slash commands that act on a message of the open chat: /reply, /react, /edit, /history (its earlier
 * texts), /delete, and /disappearing for the chat's timer. A message is picked by the number the view shows next to it ([3]);
 * without one, /reply and /react take the newest message, /edit and /delete this user's newest.
 */
import type { MessageRef } from '../../client';
import { MAX_EXCERPT_CHARS } from '../../client/content';
import { DISAPPEARING_NAMES } from '../cli/message-line';
import { lastSeenText, type ChatLine } from './chat-model';
import type { ChatSession } from './chat-session';
import type { SlashCommand } from './slash-commands';

/** The open chat, the message picked by a leading number (or the newest, own when `own`), and the words after it. */
function target(session: ChatSession, command: string, args: readonly string[], own: boolean) {
  const chat = session.model.current();
  if (!chat) throw new Error(`open a chat first (${command} acts on its messages)`);
  const numbered = args[0] !== undefined && /^\d+$/.test(args[0]);
  const line = session.model.pick(chat, numbered ? Number(args[0]) : undefined, own);
  if (!line) throw new Error(numbered ? `no message [${args[0]}] in this chat` : `no ${own ? 'message of yours' : 'message'} in this chat yet`);
  if (line.deleted) throw new Error('that message was deleted');
  return { conversationId: chat.conversationId, line, ref: refOf(session, line), rest: numbered ? args.slice(1) : args };
}

function refOf(session: ChatSession, line: ChatLine): MessageRef {
  return { author: line.from === 'me' ? session.client.userId : line.from, msgId: line.msgId! };
}

export const messageActionCommands: Record<string, SlashCommand> = {
  reply: {
    usage: '/reply [n] <text>',
    summary: 'reply to message [n] (the newest without n), quoting it',
    async run(session, args) {
      const { conversationId, line, ref, rest } = target(session, '/reply', args, false);
      if (!rest.length) throw new Error('usage: /reply [n] <text>');
      const sending = session.model.sending(conversationId, rest.join(' '), line.text.slice(0, MAX_EXCERPT_CHARS));
      try {
        session.model.sent(sending, (await session.client.reply(ref, rest.join(' '))).msgId);
      } catch (error) {
        session.model.failed(sending);
        throw error;
      }
    },
  },
  react: {
    usage: '/react [n] [emoji]',
    summary: 'react to message [n] (the newest without n); no emoji removes your reaction',
    async run(session, args) {
      const { conversationId, ref, rest } = target(session, '/react', args, false);
      const emoji = rest.join('') || null;
      // The SDK refuses a reaction longer than receivers accept (REACTION_TOO_LONG), before sending it.
      await session.client.react(ref, emoji);
      session.model.reacted(conversationId, ref.msgId, 'me', emoji);
    },
  },
  edit: {
    usage: '/edit [n] <text>',
    summary: 'replace the text of your message [n] (your newest without n), within 15 minutes',
    async run(session, args) {
      const { conversationId, ref, rest } = target(session, '/edit', args, true);
      if (!rest.length) throw new Error('usage: /edit [n] <text>');
      await session.client.edit(ref, rest.join(' '));
      session.model.edited(conversationId, ref.msgId, 'me', rest.join(' '));
    },
  },
  history: {
    usage: '/history [n]',
    summary: 'the earlier texts of message [n] (the newest without n), if it was edited; kept on this device only',
    async run(session, args) {
      const { line, ref } = target(session, '/history', args, false);
      const earlier = await session.client.editHistory(ref);
      const name = `[${session.model.numbered(session.model.current()!).get(line)}]`;
      if (!earlier.length) return session.model.say(`${name} was never edited`);
      session.model.say(`${name} before its edits, oldest first:`, ...earlier.map(({ text, replacedAt }) => `  ${text}  (until ${lastSeenText(replacedAt, Date.now())})`), `  now: ${line.text}`);
    },
  },
  delete: {
    usage: '/delete [n]',
    summary: 'delete your message [n] (your newest without n) for everyone, within 48 hours',
    async run(session, args) {
      const { conversationId, ref } = target(session, '/delete', args, true);
      await session.client.deleteForEveryone(ref);
      session.model.deleted(conversationId, ref.msgId, 'me');
    },
  },
  disappearing: {
    usage: '/disappearing off|24h|7d|90d',
    summary: "set the open chat's disappearing timer: messages go that long after they are read",
    async run(session, [name]) {
      const chat = session.model.current();
      if (!chat) throw new Error('open a chat first');
      if (!name || !(name in DISAPPEARING_NAMES)) throw new Error(`usage: /disappearing ${Object.keys(DISAPPEARING_NAMES).join('|')}`);
      const seconds = DISAPPEARING_NAMES[name as keyof typeof DISAPPEARING_NAMES];
      await session.client.setDisappearing(chat.conversationId, seconds);
      session.model.timerChanged(chat.conversationId, seconds, Date.now());
    },
  },
};
