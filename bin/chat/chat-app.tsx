/**
 * The Ink view of `parley chat`: the chat list on the left (unread counts, previews or "typing…", a green dot
 * for the open chat's peer online), the open conversation on the right (its header: blocked, typing…, online
 * or last seen, a group's members online; sender names in groups, ticks: ✓ sent, ✓✓ delivered, ✓✓ in blue read), the composer, and a
 * status bar with the connection state. It draws the ChatModel and re-draws when it changes or the terminal
 * is resized; the composer's text is React state of its own, so it stays as messages arrive.
 *
 * The composer is a small component on Ink's useInput rather than ink-text-input: that one computes each
 * keystroke from the value of its last render, so text typed right after Enter (a paste, a fast typist, a
 * test driving the terminal) came out joined to the message before or was lost.
 *
 * Ink is an ES module with top-level await, which this CommonJS build cannot require: the command imports it
 * and hands its parts in (see commands/chat.ts), and this module imports only its types.
 */
import type * as InkModule from 'ink';
import { useEffect, useReducer, useRef, useState } from 'react';
import type { ChatLine, ChatModel, Tick } from './chat-model';

export interface InkParts {
  readonly ink: typeof InkModule;
}

export interface ChatActions {
  /** A line typed and entered: a message, or a slash command. */
  submit(text: string): void;
  /** Moves the selection through the chat list. */
  move(by: number): void;
  /** The composer's text changed (typing indicators). */
  draftChanged(draft: string): void;
}

const TICKS: Record<Tick, { mark: string; color?: string }> = {
  sending: { mark: '…' },
  sent: { mark: '✓', color: 'gray' },
  delivered: { mark: '✓✓', color: 'gray' },
  read: { mark: '✓✓', color: 'blueBright' },
  failed: { mark: '✗ not sent', color: 'red' },
};

export function chatApp({ ink }: InkParts, model: ChatModel, actions: ChatActions) {
  const { Box, Text, useInput, useStdout } = ink;

  function useTerminalSize() {
    const { stdout } = useStdout();
    const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    useEffect(() => {
      const resized = () => setSize({ columns: stdout.columns, rows: stdout.rows });
      stdout.on('resize', resized);
      return () => void stdout.off('resize', resized);
    }, [stdout]);
    return size;
  }

  function ChatListPane({ width, height }: { width: number; height: number }) {
    const chats = model.ordered().slice(0, Math.max(1, Math.floor((height - 1) / 2)));
    return (
      <Box flexDirection="column" width={width} height={height} borderStyle="single" borderTop={false} borderBottom={false} borderLeft={false} overflow="hidden">
        <Text bold>Chats</Text>
        {chats.length === 0 && <Text dimColor>none yet: /new &lt;userId|phone&gt;</Text>}
        {chats.map((chat) => {
          const typing = model.typingLine(chat);
          return (
            <Box key={chat.conversationId} flexDirection="column">
              <Text wrap="truncate-end" inverse={chat.conversationId === model.selected}>
                {chat.title}
                {model.isOnline(chat) ? <Text color="green"> ●</Text> : null}
                {chat.unread ? <Text color="green"> ({chat.unread})</Text> : null}
              </Text>
              {typing ? (
                <Text wrap="truncate-end" color="green">
                  {typing}
                </Text>
              ) : (
                <Text wrap="truncate-end" dimColor>
                  {chat.preview || ' '}
                </Text>
              )}
            </Box>
          );
        })}
      </Box>
    );
  }

  /** A message with the number /reply, /react, /edit and /delete pick it by, its quote above, its reactions after. */
  function MessageLine({ line, n }: { line: ChatLine; n: number | undefined }) {
    if (line.from === 'notice') return <Text color="yellow">{line.text}</Text>;
    const tick = line.tick ? TICKS[line.tick] : undefined;
    const sender = line.from === 'me' ? 'you' : model.nameOf(line.from);
    const reactions = [...(line.reactions ?? [])].map(([by, emoji]) => `${emoji} ${by === 'me' ? 'you' : model.nameOf(by)}`).join(', ');
    return (
      // Not shrunk: in a full pane a shrinkable box would lose the whole message rather than scroll the oldest off.
      <Box flexDirection="column" flexShrink={0}>
        {line.quote !== undefined ? <Text dimColor wrap="truncate-end">{`     ┃ ${line.quote}`}</Text> : null}
        <Text wrap="wrap">
          <Text dimColor>{n ? `[${n}] ` : ''}</Text>
          <Text bold color={line.from === 'me' ? 'green' : 'cyan'}>
            {`${sender}: `}
          </Text>
          {line.deleted ? <Text italic dimColor>{line.text}</Text> : line.text}
          {line.edited ? <Text dimColor> (edited)</Text> : null}
          {tick ? <Text color={tick.color}> {tick.mark}</Text> : null}
          {reactions ? <Text> [{reactions}]</Text> : null}
        </Text>
      </Box>
    );
  }

  function ConversationPane({ height }: { height: number }) {
    const chat = model.current();
    if (!chat) {
      return (
        <Box flexDirection="column" flexGrow={1} height={height} paddingX={1}>
          <Text dimColor>Start a chat with /new &lt;userId|phone&gt; [name], a group with /group &lt;name&gt; &lt;user…&gt;; /help lists the rest.</Text>
          {model.notice.map((line, i) => (
            <Text key={i} dimColor wrap="wrap">{line}</Text>
          ))}
        </Box>
      );
    }
    const status = model.status(chat);
    const room = Math.max(1, height - 1 - model.notice.length);
    const numbers = model.numbered(chat);
    return (
      <Box flexDirection="column" flexGrow={1} height={height} paddingX={1} overflow="hidden">
        <Text bold wrap="truncate-end">
          {chat.title}
          {status ? <Text dimColor> {status}</Text> : null}
        </Text>
        <Box flexDirection="column" flexGrow={1} justifyContent="flex-end" overflow="hidden">
          {chat.lines.slice(-room).map((line, i) => (
            <MessageLine key={line.msgId ?? `${line.at}-${i}`} line={line} n={numbers.get(line)} />
          ))}
        </Box>
        {model.notice.map((line, i) => (
          <Text key={i} dimColor wrap="wrap">{line}</Text>
        ))}
      </Box>
    );
  }

  /** The line being typed: kept in a ref, so every key of a burst builds on the one before, and redrawn after. */
  function Composer({ width }: { width: number }) {
    const typed = useRef('');
    const [, redraw] = useReducer((n: number) => n + 1, 0);
    useInput((input, key) => {
      const before = typed.current;
      if (key.backspace || key.delete) typed.current = [...typed.current].slice(0, -1).join('');
      else if (key.return) submit();
      else if (!key.ctrl && !key.meta && !key.escape && !key.tab && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow) {
        // A paste may hold line breaks: each ends a message.
        const [first, ...more] = input.split(/\r\n|\r|\n/);
        typed.current += first;
        for (const next of more) {
          submit();
          typed.current = next;
        }
      }
      // Only a changed draft is typing: arrow keys and the like are not.
      if (typed.current !== before) actions.draftChanged(typed.current);
      redraw();
    });
    const submit = () => {
      const text = typed.current.trim();
      typed.current = '';
      if (text) actions.submit(text);
    };
    // The end of a long line, so the cursor's side stays in view.
    const shown = typed.current.length > width - 4 ? `…${typed.current.slice(-(width - 5))}` : typed.current;
    return (
      <Text>
        &gt; {shown}
        <Text inverse> </Text>
      </Text>
    );
  }

  return function ChatApp() {
    const [, redraw] = useReducer((n: number) => n + 1, 0);
    useEffect(() => model.onChange(redraw), []);
    const { columns, rows } = useTerminalSize();
    useInput((_, key) => {
      if (key.upArrow) actions.move(-1);
      if (key.downArrow) actions.move(1);
    });
    // One row short of the terminal: a frame as tall as the screen makes Ink clear the screen on every change.
    const height = Math.max(6, rows - 1);
    const listWidth = Math.min(30, Math.max(14, Math.floor(columns / 3)));
    const paneHeight = height - 3 - (model.progress ? 1 : 0);
    const connection = model.connectionLine();
    return (
      <Box flexDirection="column" width={columns} height={height}>
        <Box flexDirection="row" height={paneHeight}>
          <ChatListPane width={listWidth} height={paneHeight} />
          <ConversationPane height={paneHeight} />
        </Box>
        {model.progress ? <Text wrap="truncate-end">{model.progress}</Text> : null}
        <Box borderStyle="single" borderLeft={false} borderRight={false} borderBottom={false}>
          <Composer width={columns} />
        </Box>
        <Text wrap="truncate-end" dimColor>
          <Text color={model.connection.state === 'online' ? 'green' : 'yellow'}>● {connection}</Text> · you are {model.self} · ↑↓ chats · /help
        </Text>
      </Box>
    );
  };
}
