// A function thread's entry (see threads.ts): a worker starts from plain JavaScript, so TypeScript is compiled
// here by tsx unless the thread inherited a loader that already does (`tsx bench/run.ts`).
if (!require.extensions['.ts']) require('tsx/cjs/api').register();
require('./thread.ts');
