// @ts-check
/**
 * Mutation testing (`npm run mutation`) of the pure modules: Stryker changes one thing at a time in them
 * (a condition, an operator, a regular expression, a constant) and reruns the unit tests that cover the
 * change; a mutant that no test notices ("survived") is a behaviour the tests would not see break.
 * Slow by nature, so it is not part of `npm test`. The report: reports/mutation/index.html.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    // redaction
    'src/lib/redact.ts',
    'src/lib/context.ts',
    // validation
    'src/lib/validate.ts',
    'src/lib/json.ts',
    'src/lib/cut.ts',
    'collector/validate.ts',
    // backoff
    'src/core/backoff.ts',
    // statistics
    'collector/stats.ts',
  ],
  coverageAnalysis: 'perTest',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // One test runner: the run is meant to leave the machine usable (and CI runners are small).
  concurrency: 1,
  // Newton's method and bisection loops can spin for ever once mutated; such a mutant counts as killed (timeout).
  timeoutMS: 10_000,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
