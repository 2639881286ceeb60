/**
 * Jest's own order (the slowest suites first, from the durations it keeps after a run), with an estimate for
 * a suite it has not timed yet. Without one, jest orders untimed suites by file size, which on a clean clone
 * put the one-file CDK suite (~45 s, but a small file: it imports its assertions) last, alone at the end.
 */
const Sequencer = require('@jest/test-sequencer').default;

/** Seconds a suite takes on a 2-core machine, by what it runs; measured roughly, only the order matters. */
function estimatedMs(testPath) {
  if (/\/test\/cdk\//.test(testPath)) return 45_000; // synthesizes the stack in several configurations
  if (/\/test\/typecheck\.test\.ts$/.test(testPath)) return 15_000; // tsc over the whole project
  if (/\/test\/(e2e|integration|chaos)\//.test(testPath)) return 10_000; // starts the local stack
  return 1_000;
}

class SlowestFirstSequencer extends Sequencer {
  time(test) {
    return super.time(test) ?? estimatedMs(test.path);
  }
}

module.exports = SlowestFirstSequencer;
