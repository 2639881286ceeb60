import { chatApp } from '../../chat/chat-app';
import { ChatModel } from '../../chat/chat-model';
import { ChatSession } from '../../chat/chat-session';
import { ContactNames } from '../../chat/contact-names';
import { withClient, type CliCommand } from '../command';
import { CliError } from '../errors';

/** The terminal's second screen, as full-screen programs (vim, less) use it: the shell's screen comes back on quit. */
const ALTERNATE_SCREEN = { enter: '\u001b[?1049h', leave: '\u001b[?1049l' };

export const chat: CliCommand = {
  name: 'chat',
  usage: '',
  summary: 'the interactive terminal client: chats, conversation with ticks, presence and typing, slash commands (/help)',
  details: `Type a message and press Enter to send it to the open chat; ↑/↓ move through the chats. The open
chat's header shows the person online or last seen (in a group, who is online), typing…, and blocked; the
others see you typing as you type.
Slash commands: /new <userId|phone> [name], /group <name> <user…>, /group add|remove|leave, /block,
/unblock, /devices, /link, /verify [mark], /send-file <path> [caption], /name <name>, /help, /quit (or Ctrl-C).
A user is a userId or a phone number (+14155550100, looked up).
Received files are saved under --downloads (default: <store>/downloads).`,
  run: (context) =>
    withClient(context, async (client) => {
      if (!process.stdin.isTTY) throw new CliError('parley chat needs a terminal (stdin is not one); use send and listen in scripts');
      const ink = await import('ink');
      const names = await ContactNames.load(context.storeDirectory);
      const model = new ChatModel(client.userId, (userId) => (userId === client.userId ? 'you' : names.nameOf(userId)));
      let quit = () => undefined as void;
      const session = new ChatSession(client, model, names, context.downloads, () => quit());
      const App = chatApp({ ink }, model, {
        submit: (text) => session.submit(text),
        move: (by) => session.move(by),
        draftChanged: (draft) => session.draftChanged(draft),
      });

      process.stdout.write(ALTERNATE_SCREEN.enter);
      const app = ink.render(<App />, { exitOnCtrlC: true });
      quit = () => app.unmount();
      try {
        await session.start();
        await app.waitUntilExit();
      } finally {
        app.unmount();
        process.stdout.write(ALTERNATE_SCREEN.leave);
      }
    }),
};
