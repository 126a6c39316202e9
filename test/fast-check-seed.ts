// fast-check draws new inputs on every local run, which is how the fuzz suites find bugs (a
// failure prints its seed); CI replays one fixed seed, so that a red CI means the change broke
// something. FC_SEED=<n> replays any seed.
import fc from 'fast-check';

const seed = process.env.FC_SEED ?? (process.env.CI ? '20261130' : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
