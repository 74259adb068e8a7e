import { execFileSync } from 'node:child_process';

/**
 * Finds a binary on PATH, where vitest.config.mts puts the Debian unstable Prometheus parts of
 * `npm run binaries` first. Missing locally, the tests that need it are skipped with a loud
 * warning; missing under CI, that is a failure, never a silent skip.
 */
export function findBinary(name: string, debianPackage: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    const fix = ['prometheus', 'promtool', 'prometheus-pushgateway', 'prometheus-alertmanager'].includes(debianPackage)
      ? 'run npm run binaries (Debian unstable\'s current version)'
      : `install Debian's ${debianPackage} package (apt-get install ${debianPackage})`;
    const message = `${name} not found: ${fix}`;
    if (process.env.CI) throw new Error(`${message}; CI must run these tests, not skip them`);
    console.warn(`\n*** SKIPPING tests that need ${name}: ${message} ***\n`);
    return undefined;
  }
}
