/** How `parley listen` shows a received message or action, one line, with the msgId to reply, react, edit or delete by. */
import type { IncomingMessage } from '../../client';

export function messageLine(m: IncomingMessage): string {
  const who = `${m.outgoing ? 'you' : m.from.userId} (device ${m.from.deviceId})`;
  const at = `${new Date(m.serverTs).toISOString()} ${m.msgId}`;
  switch (m.kind) {
    case 'reaction':
      return `${at} ${who} ${m.reaction!.emoji === null ? 'removed their reaction to' : `reacted ${m.reaction!.emoji} to`} ${m.reaction!.msgId}`;
    case 'edit':
      return `${at} ${who} edited ${m.edit!.msgId}: ${m.edit!.text} (edited)`;
    case 'delete':
      return `${at} ${who} deleted ${m.deleteForEveryone!.msgId} for everyone`;
    case 'disappearing':
      return `${at} ${who} set disappearing messages ${m.disappearing!.seconds === 0 ? 'off' : `to ${timerName(m.disappearing!.seconds)}`}`;
    case 'unsupported':
      return `${at} ${who}: unsupported message (${m.unsupported!.type}, version ${m.unsupported!.version}): update parley to see it`;
    default: {
      const quote = m.replyTo ? `[replying to ${m.replyTo.msgId}: "${m.replyTo.excerpt}"] ` : '';
      const body = m.text ?? (m.attachment ? '' : `${m.data?.length} bytes`);
      return `${at} ${who}: ${quote}${body}`;
    }
  }
}

/** The timers by the names the `disappearing` command takes. */
export const DISAPPEARING_NAMES = { off: 0, '24h': 86400, '7d': 604800, '90d': 7776000 } as const;

const timerName = (seconds: number) => Object.entries(DISAPPEARING_NAMES).find(([, value]) => value === seconds)?.[0] ?? `${seconds} s`;
