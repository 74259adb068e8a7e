import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { afterAll, describe, expect, test } from 'vitest';
import { Pushgateway, PushgatewayProps } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { startPushgateway } from '../helpers/processes';
import { synth } from '../helpers/synth';

const binary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pushgateway-replicas-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The synthesized container args, with `/data` (the pod's volume) replaced by a folder of its own. */
function argsWithVolume(props: PushgatewayProps, volume: string): string[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
  const pgw = new Pushgateway(chart, 'Pushgateway', props);
  const s = synth(chart);
  const workload = pgw.replicas > 1 ? s.find('StatefulSet') : s.find('Deployment');
  fs.mkdirSync(volume, { recursive: true });
  return (workload.spec.template.spec.containers[0].args as string[]).map((a) => a.replace('=/data/', `=${volume}/`));
}

const groupsOf = async (url: string) => ((await (await fetch(`${url}/api/v1/metrics`)).json()) as any).data.map((g: any) => g.labels);

describe.skipIf(!binary)('moving a single Pushgateway to replicas, as docs/pushgateway.md says', () => {
  test('the old persistence file copied into replica 0\'s volume is loaded there; replica 1 starts empty', async () => {
    const old = path.join(tmp, 'pushgateway-data');
    const single = await startPushgateway(binary!, argsWithVolume({}, old));
    try {
      const push = await fetch(`${single.url}/metrics/job/weekly-report`, { method: 'POST', body: '# TYPE batch_job_success gauge\nbatch_job_success 1\n' });
      expect(push.status).toBe(200);
    } finally {
      // `kubectl scale deployment pushgateway --replicas=0`: SIGTERM, and the file is written.
      await single.stop('SIGTERM');
    }

    const volumes = [path.join(tmp, 'data-pushgateway-0'), path.join(tmp, 'data-pushgateway-1')];
    const replicaArgs = volumes.map((volume) => argsWithVolume({ replicas: 2 }, volume));
    // The one-off copy pod: `cp /old/pushgateway.data /new/pushgateway.data`.
    fs.copyFileSync(path.join(old, 'pushgateway.data'), path.join(volumes[0], 'pushgateway.data'));

    const replicas = await Promise.all(replicaArgs.map((args) => startPushgateway(binary!, args)));
    try {
      expect(await groupsOf(replicas[0].url)).toContainEqual({ job: 'weekly-report' });
      expect(await groupsOf(replicas[1].url)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });
});
