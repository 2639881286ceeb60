/**
 * Entry files of packages Node loads once per worker instead of jest once per test file: the emulators and
 * libsignal, which hold no state between their instances and which no test mocks (test/support/load-natively.js).
 */
const NODE_LOADED = '/node_modules/(dynalite/index|kinesalite/index|s3rver/lib/s3rver|@signalapp/libsignal-client/dist/index)\\.js$';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    [NODE_LOADED]: '<rootDir>/test/support/load-natively.js',
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
    // The terminal UI's views (bin/chat/*.tsx), with React's automatic JSX runtime as tsconfig's "react-jsx".
    '^.+\\.tsx$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } } }, module: { type: 'commonjs' } },
    ],
  },
  // libsignal ships ES modules only: Node 20.19 require()s them, jest's module loader could not.
  transformIgnorePatterns: [`/node_modules/(?!${NODE_LOADED.slice('/node_modules/'.length)})`],
  testSequencer: '<rootDir>/test/slowest-first-sequencer.js',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // Generous: a suite that runs a whole chat through the local stack takes seconds alone, but several times
  // that on a busy 2-core machine; a hang still ends the run.
  testTimeout: 60000,
  // Two workers on this 2-core class of machine: most suites wait on sockets and emulators as much as they
  // compute, so the second worker took a clean run from 3 min 45 s to about 2 min 45 s.
  maxWorkers: 2,
};
