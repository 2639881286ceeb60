/**
 * A jest transform that hands a package's entry file to Node's own module loader. Jest evaluates every
 * module again in every test file (its registry is per file), which for the emulators and libsignal cost
 * ~0.8 s of CPU per local-stack file; Node's loader keeps them once per jest worker. Only for packages
 * that hold no state between instances and that no test mocks: the emulators, libsignal.
 */
module.exports = {
  process(_source, filename) {
    return { code: `module.exports = require('node:module')._load(${JSON.stringify(filename)}, null, false);` };
  },
};
