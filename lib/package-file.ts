import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The path of a file shipped in this package (e.g. `lib/push-wrapper/push-metrics.sh`), whether
 * the library runs from its sources (lib/) or compiled from an installed tarball (build/lib/):
 * both sit below the package root, the first folder up that holds a package.json.
 */
export function packageFilePath(relativePath: string): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cdk8s-batch-monitoring: package root not found above ${__dirname}: reinstall the package`);
    dir = parent;
  }
  return path.join(dir, relativePath);
}

/** Reads a file shipped in this package at synth time (see `packageFilePath`). */
export function readPackageFile(relativePath: string): string {
  return fs.readFileSync(packageFilePath(relativePath), 'utf8');
}
