/** The slash commands of `parley chat`: everything that is not a message. /help lists them. */
import { directConversationId } from '../../lambdas/send/conversations';
import { progressBar } from '../cli/progress-bar';
import type { ChatSession } from './chat-session';

interface SlashCommand {
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

function openGroup(session: ChatSession, command: string): string {
  const chat = session.model.current();
  if (!chat || !('groupId' in chat.peer)) throw new Error(`open a group first (${command} works on groups)`);
  return chat.peer.groupId;
}

export const slashCommands: Record<string, SlashCommand> = {
  new: {
    usage: '/new <userId> [name]',
    summary: 'open a chat with a user (and give them a name)',
    async run(session, [userId, ...name]) {
      // Finding a user by phone number comes with contacts (issue 12); until then a chat starts from a userId.
      if (!userId || !USER_ID.test(userId)) throw new Error('give a userId (parley whoami shows one); looking people up by phone number is not available yet');
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
    usage: '/group <name> <userId…> | /group add|remove <userId…> | /group leave',
    summary: 'make a group, or change the open one',
    async run(session, [first, ...rest]) {
      const { client, model } = session;
      if (first === 'add' || first === 'remove') {
        const groupId = openGroup(session, `/group ${first}`);
        if (!rest.length) throw new Error(`usage: /group ${first} <userId…>`);
        await (first === 'add' ? client.addMembers(groupId, rest) : client.removeMembers(groupId, rest));
        return;
      }
      if (first === 'leave') {
        await client.leaveGroup(openGroup(session, '/group leave'));
        return model.say('You left the group');
      }
      if (!first || !rest.length) throw new Error(`usage: ${slashCommands.group!.usage}`);
      const bad = rest.find((id) => !USER_ID.test(id));
      if (bad) throw new Error(`${bad} is not a userId`);
      const group = await client.createGroup(first, rest);
      const entry = model.chatFor(group.conversationId, group.name)!;
      entry.lastActivityAt = Date.now();
      session.open(group.conversationId);
    },
  },
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
  help: {
    usage: '/help',
    summary: 'this list',
    run(session) {
      session.model.say(...Object.values(slashCommands).map((c) => `${c.usage.padEnd(34)} ${c.summary}`), '↑/↓ moves through the chats; Ctrl-C or /quit ends.');
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
