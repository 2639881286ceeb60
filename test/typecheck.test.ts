/**
 * The type check, as one test of the suite: it runs beside the other files instead of before them all
 * (`tsc --noEmit` takes ~15 s of one core, which a serial `tsc && jest` added to every run), and a type
 * error counts as a failed test in the run's summary.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

it('finds no type error in the project (tsc --noEmit, tsconfig.json)', async () => {
  const tsc = path.join(__dirname, '../node_modules/typescript/bin/tsc');
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) =>
    execFile(process.execPath, [tsc, '--noEmit', '--pretty', 'false'], { cwd: path.join(__dirname, '..'), maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: typeof error?.code === 'number' ? error.code : error ? 1 : 0, output: `${stdout}${stderr}` }),
    ),
  );
  expect(output).toBe('');
  expect(code).toBe(0);
}, 180_000);
