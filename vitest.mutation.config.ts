import { defineConfig } from 'vitest/config';
import base from './vitest.config';

/**
 * The unit tests that cover the pure modules of `stryker.config.mjs`, and only those: Stryker runs them
 * once per mutant, so no e2e, no DuckDB/PostgreSQL collector tests and no simulation tests (the
 * sequential and honesty runs take tens of seconds each and would make a run last hours).
 */
// Spread, not mergeConfig: mergeConfig would add this list to the base one instead of replacing it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/redact.test.ts',
      'test/privacy.test.ts',
      'test/validate.test.ts',
      'test/json.test.ts',
      'test/text.test.ts',
      'test/backoff.test.ts',
      'test/collector/stats.test.ts',
      'test/collector/validate.test.ts',
    ],
  },
});
