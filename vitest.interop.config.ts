import { defineConfig } from 'vitest/config';

// Interop suite: checks our images against a real Docker daemon (docker load/run,
// docker save → tsbuild load). Not part of `npm test` (which must not need
// Docker); .ci/run runs it with a dockerd it starts (scripts/with-dockerd.sh).
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
  },
});
