import * as path from 'node:path';
import { defineConfig } from 'vitest/config';

// The Prometheus parts from Debian unstable (npm run binaries) come first: the tests run the
// versions a cluster runs, not the machine's older packages.
const debianUnstableBin = path.resolve(import.meta.dirname, '.cache/debian-unstable/root/usr/bin');
process.env.PATH = `${debianUnstableBin}${path.delimiter}${process.env.PATH ?? ''}`;

// Integration tests that compute rather than wait (jsii, jsii-pacmak, npm install, tsc, a whole
// synthesis, promtool over days of samples, jsonnet, kubectl): they run beside the others at a
// lower CPU priority, as the unit tests do, with room for a machine that other work keeps busy.
const CPU_BOUND = [
  'test/integration/packaging.test.ts',
  'test/integration/synth.test.ts',
  'test/integration/alerts-promtool.test.ts',
  'test/integration/dashboard-queries.test.ts',
  'test/integration/kube-prometheus-jsonnet.test.ts',
  'test/integration/dashboard-patch.test.ts',
];
const lowerPriority = ['test/helpers/lower-priority.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    globalSetup: ['test/helpers/temp-folder.ts'],
    // Integration tests start real Prometheus binaries: room for a 2-core machine that other work
    // keeps busy (a Pushgateway, up in a fraction of a second, was seen to take a minute there).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The integration tests mostly wait (outages, evaluation cycles, retry back-offs), so every
    // test file runs at once in a process of its own, whatever the number of cores; tests a file
    // marks concurrent run at once too. Each test has its own ports and temp folders.
    maxWorkers: 32,
    maxConcurrency: 16,
    projects: [
      { extends: true, test: { name: 'integration', include: ['test/integration/*.test.ts'], exclude: CPU_BOUND } },
      { extends: true, test: { name: 'unit', include: ['test/*.test.ts'], setupFiles: lowerPriority } },
      { extends: true, test: { name: 'cpu-bound', include: CPU_BOUND, setupFiles: lowerPriority, testTimeout: 300_000, hookTimeout: 300_000 } },
    ],
  },
});
