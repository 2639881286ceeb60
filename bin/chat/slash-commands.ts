/** The slash commands of `parley chat`: everything that is not a message. /help lists them. */
import { directConversationId } from '../../lambdas/send/conversations';
import { progressBar } from '../cli/progress-bar';
import { userIdsOf } from '../cli/user-ids';
import type { ChatSession } from './chat-session';
import { messageActionCommands } from './message-action-commands';

export interface SlashCommand {
  readonly usage: string;
  readonly summary: string;
  run(session: ChatSession, args: string[]): Promise<void> | void;
}

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The open chat's 1:1 peer, or an error saying the command needs one. */
function openContact(session: ChatSession, command: string): string {
  const chat = session.model.current();
  if (!chat || !('userId' in chat.peer)) throw new Error(`open a chat with one person first (${command} works on 1:1 chats)`);
  return chat.peer.userId;
}

/** userIds or phone numbers (looked up) as userIds; anything else is an error naming it. */
async function usersOf(session: ChatSession, words: readonly string[]): Promise<string[]> {
  const userIds = await userIdsOf(session.client, words);
  const bad = words.find((_, i) => !USER_ID.test(userIds[i]!));
  if (bad) throw new Error(`${bad} is neither a userId nor a phone number (+14155550100)`);
  return userIds;
}

/** /block and /unblock: one command each way on the open chat's person. */
function blocking(block: boolean): SlashCommand {
  const command = block ? '/block' : '/unblock';
  return {
    usage: command,
    summary: block ? "block the open chat's person: their messages stop reaching you, they no longer see your presence or typing" : 'undo /block',
    async run(session) {
      const userId = openContact(session, command);
      await (block ? session.client.block(userId) : session.client.unblock(userId));
      session.model.blockChanged(userId, block);
      session.model.say(block ? `You blocked ${session.names.nameOf(userId)}; /unblock undoes it` : `You unblocked ${session.names.nameOf(userId)}`);
    },
  };
}

function openGroup(session: ChatSession, command: string): string {
  const chat = session.model.current();
  if (!chat || !('groupId' in chat.peer)) throw new Error(`open a group first (${command} works on groups)`);
  return chat.peer.groupId;
}

export const slashCommands: Record<string, SlashCommand> = {
  new: {
    usage: '/new <userId|phone> [name]',
    summary: 'open a chat with a user, by userId or phone number (and give them a name)',
    async run(session, [who, ...name]) {
      if (!who) throw new Error('usage: /new <userId|phone> [name]');
      const [userId] = (await usersOf(session, [who])) as [string];
      if (name.length) await session.names.set(userId, name.join(' '));
      const conversationId = directConversationId(session.client.userId, userId);
      const entry = session.model.chatFor(conversationId)!;
      entry.title = session.names.nameOf(userId);
      entry.lastActivityAt ||= Date.now();
      session.open(conversationId);
    },
  },
  name: {
    usage: '/name <name>',
    summary: 'name the person of the open chat',
    async run(session, name) {
      const userId = openContact(session, '/name');
      if (!name.length) throw new Error('usage: /name <name>');
      await session.names.set(userId, name.join(' '));
      session.model.current()!.title = name.join(' ');
      session.model.changed();
    },
  },
  group: {
    usage: '/group <name> <user…> | /group add|remove <user…> | /group leave',
    summary: 'make a group, or change the open one',
    async run(session, [first, ...rest]) {
      const { client, model } = session;
      if (first === 'add' || first === 'remove') {
        const groupId = openGroup(session, `/group ${first}`);
        if (!rest.length) throw new Error(`usage: /group ${first} <user…>`);
        const userIds = await usersOf(session, rest);
        await (first === 'add' ? client.addMembers(groupId, userIds) : client.removeMembers(groupId, userIds));
        return;
      }
      if (first === 'leave') {
        await client.leaveGroup(openGroup(session, '/group leave'));
        return model.say('You left the group');
      }
      if (!first || !rest.length) throw new Error(`usage: ${slashCommands.group!.usage}`);
      const group = await client.createGroup(first, await usersOf(session, rest));
      const entry = model.chatFor(group.conversationId, group.name)!;
      entry.lastActivityAt = Date.now();
      session.open(group.conversationId);
    },
  },
  block: blocking(true),
  unblock: blocking(false),
  devices: {
    usage: '/devices',
    summary: "your account's devices",
    async run(session) {
      const devices = await session.client.listDevices();
      session.model.say('Your devices:', ...devices.map((d) => `  ${d.deviceId}  ${d.name}${d.primary ? ' (primary)' : ''}${d.deviceId === session.client.deviceId ? ' (this one)' : ''}`));
    },
  },
  link: {
    usage: '/link',
    summary: 'a token to link a new device: parley --store NEW link <token> <name> there',
    async run(session) {
      const { linkToken } = await session.client.createLinkToken();
      session.model.say('Link a new device within 5 minutes with:', `  parley --store NEW_DIR link ${linkToken} <deviceName>`);
    },
  },
  verify: {
    usage: '/verify [mark]',
    summary: "safety numbers with the open chat's person; /verify mark once they match",
    async run(session, [mark]) {
      const userId = openContact(session, '/verify');
      if (mark === 'mark') await session.client.markVerified(userId);
      const numbers = await session.client.safetyNumbers(userId);
      session.model.say(
        `Safety numbers with ${session.names.nameOf(userId)} (compare with their /verify):`,
        // Three rows of four groups, as Signal shows them, so they fit a narrow terminal.
        ...numbers.flatMap((n) => [`  device ${n.device.deviceId}${n.verified ? ' ✓ verified' : ''}`, ...(n.digits.match(/(\d{5} ?){1,4}/g) ?? []).map((row) => `    ${row.trim()}`)]),
      );
    },
  },
  'send-file': {
    usage: '/send-file <path> [caption…]',
    summary: 'send a file to the open chat, with a progress bar',
    async run(session, [file, ...caption]) {
      const chat = session.model.current();
      if (!chat) throw new Error('open a chat first');
      if (!file) throw new Error('usage: /send-file <path> [caption…]');
      const { model } = session;
      const line = model.sending(chat.conversationId, `📎 ${file}${caption.length ? ` ${caption.join(' ')}` : ''}`);
      const to = 'userId' in chat.peer ? chat.peer.userId : { groupId: chat.peer.groupId };
      try {
        const sent = await session.client.sendFile(to, file, {
          onProgress: progressBar((bar) => ((model.progress = bar), model.changed())),
          ...(caption.length ? { caption: caption.join(' ') } : {}),
        });
        model.sent(line, sent.msgId);
      } catch (error) {
        model.failed(line);
        throw error;
      } finally {
        model.progress = undefined;
        model.changed();
      }
    },
  },
  ...messageActionCommands,
  help: {
    usage: '/help',
    summary: 'this list',
    run(session) {
      session.model.say(...Object.values(slashCommands).map((c) => `${c.usage.padEnd(34)} ${c.summary}`), 'A user is a userId or a phone number (+14155550100). [n] is the number shown next to a message. ↑/↓ moves through the chats; Ctrl-C or /quit ends.');
    },
  },
  quit: {
    usage: '/quit',
    summary: 'end the chat',
    run(session) {
      session.quit();
    },
  },
};

export async function runSlashCommand(session: ChatSession, text: string): Promise<void> {
  const [name, ...args] = text.slice(1).split(/\s+/).filter(Boolean);
  const command = name ? slashCommands[name] : undefined;
  if (!command) throw new Error('no such command: /help lists them');
  session.model.say();
  await command.run(session, args);
}
