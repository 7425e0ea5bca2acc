/**
 * The tests Stryker runs against each mutant (npm run test:mutation): the unit tests, which
 * hold the mutated modules' promises without threads or wall-clock time, so that thousands
 * of runs stay within minutes. The full suite (vitest.config.ts) is what npm test runs.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
