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
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pushgateway-binary-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** What the construct synthesizes for the container, the probes and the ServiceMonitor. */
function synthesized(props: PushgatewayProps = {}) {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
  new Pushgateway(chart, 'Pushgateway', props);
  const s = synth(chart);
  const container = s.find('Deployment').spec.template.spec.containers[0];
  return {
    // The volume is mounted at /data in the pod; here a temp folder stands in for it.
    args: (container.args as string[]).map((a) => a.replace('=/data/', `=${tmp}/`)),
    probes: [container.startupProbe, container.livenessProbe, container.readinessProbe].map((p) => p.httpGet.path as string),
    scrapePath: s.find('ServiceMonitor').spec.endpoints[0].path as string,
  };
}

describe.skipIf(!binary)('the real Pushgateway with the synthesized args', () => {
  test('a pushed group survives a graceful restart through the persistence file', async () => {
    const { args } = synthesized();
    expect(args).toContain(`--persistence.file=${tmp}/pushgateway.data`);

    const first = await startPushgateway(binary!, args);
    try {
      const push = await fetch(`${first.url}/metrics/job/daily-backup/env/prod`, {
        method: 'POST',
        body: '# TYPE batch_job_success gauge\nbatch_job_success 1\n',
      });
      expect(push.status).toBe(200);
    } finally {
      // SIGTERM by PID: the Pushgateway drains its queue and writes the persistence file.
      await first.stop('SIGTERM');
    }
    expect(fs.existsSync(`${tmp}/pushgateway.data`)).toBe(true);

    const second = await startPushgateway(binary!, args);
    try {
      const body = await (await fetch(`${second.url}/api/v1/metrics`)).json() as any;
      const groups = body.data.map((g: any) => g.labels);
      expect(groups).toContainEqual({ job: 'daily-backup', env: 'prod' });
      const scraped = await (await fetch(`${second.url}/metrics`)).text();
      expect(scraped).toMatch(/batch_job_success\{env="prod",instance="",job="daily-backup"\} 1/);
    } finally {
      await second.stop();
    }
  });

  test('with a route prefix and telemetry path, the probe and scrape paths are the ones served', async () => {
    const { args, probes, scrapePath } = synthesized({ persistence: false, routePrefix: '/pushgateway', telemetryPath: '/scrape' });
    const pgw = await startPushgateway(binary!, args);
    try {
      const origin = `http://127.0.0.1:${pgw.port}`;
      for (const p of [...probes, scrapePath]) {
        expect(`${p} ${(await fetch(`${origin}${p}`)).status}`).toBe(`${p} 200`);
      }
      expect((await fetch(`${origin}/metrics`)).status).toBe(404);
    } finally {
      await pgw.stop();
    }
  });

  test('lifecycle and admin API are refused unless enabled', async () => {
    const off = await startPushgateway(binary!, synthesized({ persistence: false }).args);
    try {
      expect((await fetch(`${off.url}/api/v1/admin/wipe`, { method: 'PUT' })).status).not.toBe(202);
      expect((await fetch(`${off.url}/-/quit`, { method: 'PUT' })).status).toBe(403);
    } finally {
      await off.stop();
    }
    const on = await startPushgateway(binary!, synthesized({ persistence: false, enableAdminApi: true, admitLabelledNamespaces: false }).args);
    try {
      expect((await fetch(`${on.url}/api/v1/admin/wipe`, { method: 'PUT' })).status).toBe(202);
    } finally {
      await on.stop();
    }
  });
});
