/** What a `parley` command reads from and writes to: the terminal, or a test. */
import { createInterface } from 'node:readline/promises';

export interface CliIo {
  print(line: string): void;
  /** Asks the person at the terminal; answers '' when nothing can be read (no terminal, end of input). */
  ask(question: string): Promise<string>;
  /** Shows a transfer's progress in place (a bar on a terminal). @default on stderr when it is a terminal */
  progress?(line: string): void;
  /** Resolves when `listen` should stop. @default SIGINT */
  stopListening?: Promise<void>;
}

export function terminal(): CliIo {
  return {
    print: (line) => console.log(line),
    progress: (line) => process.stderr.isTTY && process.stderr.write(`\r${line}`),
    ask: async (question) => {
      const prompt = createInterface({ input: process.stdin, output: process.stdout });
      const closed = new Promise<string>((resolve) => prompt.once('close', () => resolve('')));
      try {
        return (await Promise.race([prompt.question(question), closed])).trim();
      } finally {
        prompt.close();
      }
    },
  };
}
