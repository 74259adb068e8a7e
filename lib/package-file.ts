import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Reads a file shipped in this package (e.g. `lib/push-wrapper/push-metrics.sh`) at synth time,
 * whether the library runs from its sources (lib/) or compiled from an installed tarball (build/lib/).
 */
export function readPackageFile(relativePath: string): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cdk8s-batch-monitoring: package root not found above ${__dirname}`);
    dir = parent;
  }
  return fs.readFileSync(path.join(dir, relativePath), 'utf8');
}
