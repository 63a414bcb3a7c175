import fc from 'fast-check';

// CI runs the property tests on a fixed seed so that a red run is reproducible; local runs keep
// exploring new seeds (a failure prints its seed and path for `fc.assert(..., { seed, path })`).
if (process.env.CI) fc.configureGlobal({ seed: 20261130 });
