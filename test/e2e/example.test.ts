/** The SDK's runnable example (client/examples/local-chat.ts) keeps running: the README points at it. */
import { runLocalChat } from '../../client/examples/local-chat';

it('runs the README’s example chat end to end', async () => {
  const lines: string[] = [];
  await runLocalChat((line) => lines.push(line));
  expect(lines).toEqual(
    expect.arrayContaining([
      'Bob got a message from Alice (device 1): Hello Bob!',
      'Alice’s tablet got a copy of its own from Alice (device 1): Hello Bob!',
      'Alice’s phone got a message from Bob (device 1): Hi Alice, got it.',
      'Alice’s phone sees delivered by Bob',
      'Alice’s phone sees read by Bob',
    ]),
  );
});
