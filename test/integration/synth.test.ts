import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A synth takes about 4 s on an idle machine, up to 35 s on a loaded one (and was seen to take
// over 120 s at a load of 27 on 2 cores).
const SYNTHS_TIMEOUT = 300_000;

function synth(output: string, ...extra: string[]) {
  return spawnSync('node', ['scripts/synth.js', '--output', output, ...extra], { cwd: root, encoding: 'utf8', timeout: SYNTHS_TIMEOUT });
}

function snapshotOf(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

describe('npm run synth', () => {
  // The committed dist/ was written by an earlier run (CI checks that it is current): a run that
  // writes the same bytes shows the output does not change from run to run.
  test('is deterministic: a run writes byte for byte the committed dist/ and grafana/', () => {
    const a = path.join(tmp, 'a');
    expect(synth(a).status).toBe(0);
    expect(snapshotOf(a)).toEqual(snapshotOf(path.join(root, 'dist')));
    // The dashboard files go beside the output, not into it.
    expect(snapshotOf(path.join(tmp, 'grafana'))).toEqual(snapshotOf(path.join(root, 'grafana')));
  }, SYNTHS_TIMEOUT);

  test('a failed synthesis leaves the previous output exactly as it was', () => {
    // The previous output: what a successful synthesis wrote, as committed.
    const out = path.join(tmp, 'kept');
    fs.cpSync(path.join(root, 'dist'), out, { recursive: true });
    const before = snapshotOf(out);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const failed = synth(out, '--app', 'node -e "throw new Error(\'broken app\')"');
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/synth failed .*left as it was/);
    expect(snapshotOf(out)).toEqual(before);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('kept.synth-'))).toEqual([]);
  }, 2 * SYNTHS_TIMEOUT);
});
