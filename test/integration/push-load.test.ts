import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { findBinary } from '../helpers/binaries';
import { pushThroughRestart } from '../helpers/push-load';

const pushgateway = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const prometheus = findBinary('prometheus', 'prometheus');
const wrapper = path.resolve(__dirname, '..', '..', 'lib', 'push-wrapper', 'push-metrics.sh');

// The small version of npm run bench:ha (200 runs over 30 s, a 20 s outage).
describe.skipIf(!pushgateway || !prometheus)('job runs pushing to two replicas while one is killed and restarted', () => {
  test('no result lost: Prometheus shows every run\'s own outcome; every exit status kept', async () => {
    const result = await pushThroughRestart({
      name: 'replica killed', replicas: 2, wrapper, signal: 'SIGKILL', runs: 24, spreadMs: 8000, stopAtMs: 2000, downMs: 5000,
    }, { pushgateway: pushgateway!, prometheus: prometheus! });
    expect(result.lost).toBe(0);
    expect(result.delivered).toBe(24);
    expect(result.exitKept).toBe(24);
    // The fault was real: runs ending while replica 0 was away retried it, and the runs it had
    // accepted before the kill were gone from it (nothing persisted), but not from replica 1.
    expect(result.retried).toBeGreaterThan(0);
    expect(result.perReplica[0]).toBeLessThan(24);
    expect(result.perReplica[1]).toBe(24);
  }, 240_000);
});
