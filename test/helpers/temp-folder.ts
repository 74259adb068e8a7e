import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The global setup of `npm test` (vitest.config.mts): every temporary folder of the run, the
// tests' own and those cdk8s's Testing.app() makes for each chart and never removes (hundreds a
// run), goes into one folder that is removed when the run ends, whatever a test left behind.
// The test processes and what they start find it through TMPDIR, which os.tmpdir() reads.
// Every project of the config runs it: the first one makes the folder.
const PREFIX = 'cdk8s-batch-monitoring-tests-';

export default function setup(): () => void {
  if (path.basename(os.tmpdir()).startsWith(PREFIX)) return () => undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  // Open to pass through, as /tmp is: a test runs nginx as nobody on a folder of its own inside.
  fs.chmodSync(dir, 0o755);
  process.env.TMPDIR = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
