import * as path from 'node:path';
import { defineConfig } from 'vitest/config';

// The Prometheus parts from Debian unstable (npm run binaries) come first: the tests run the
// versions a cluster runs, not the machine's older packages.
const debianUnstableBin = path.resolve(import.meta.dirname, '.cache/debian-unstable/root/usr/bin');
process.env.PATH = `${debianUnstableBin}${path.delimiter}${process.env.PATH ?? ''}`;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Integration tests start real Prometheus binaries; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
