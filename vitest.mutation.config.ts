/**
 * The tests Stryker runs against each mutant (npm run test:mutation): the unit tests, which
 * hold the mutated modules' promises without threads or wall-clock time, so that thousands
 * of runs stay within minutes, and the checkpoint's own integration test. The full suite (vitest.config.ts) is what npm test runs.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The checkpoint's file format and crash safety are held by its integration test (real files, a killed writer).
    include: ['test/unit/**/*.test.ts', 'test/integration/experience-checkpoint.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
