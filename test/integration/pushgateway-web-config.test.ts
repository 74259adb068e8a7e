import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Pushgateway } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { RunningProcess, freePort, startProcess } from '../helpers/processes';
import { synth } from '../helpers/synth';
import { TEST_PASSWORD as PASSWORD, TEST_USER as USER, writeSecuredWebConfig } from '../helpers/tls';

const binary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const openssl = findBinary('openssl', 'openssl');
const wrapper = path.resolve(__dirname, '..', '..', 'lib', 'push-wrapper', 'push-metrics.sh');

/**
 * The secured Pushgateway exactly as synthesized (basic auth + TLS from Secrets), with the Secret
 * mounts replaced by a temp folder holding what the Secrets would: a web config with the bcrypt
 * hash, and a certificate signed by a test CA for 127.0.0.1.
 */
describe.skipIf(!binary || !openssl)('the real Pushgateway with a web config (basic auth and TLS)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushgateway-web-'));
  let pgw: RunningProcess;
  let url: string;
  let ca: string;

  beforeAll(async () => {
    ({ ca } = writeSecuredWebConfig(openssl!, dir));

    const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
    new Pushgateway(chart, 'Pushgateway', {
      persistence: false,
      webConfig: { secretName: 'pushgateway-web-config', tlsSecretName: 'pushgateway-tls', clientSecretName: 'pushgateway-client' },
    });
    const container = synth(chart).find('Deployment').spec.template.spec.containers[0];
    const port = await freePort();
    const args = (container.args as string[])
      .map((a) => a.replace('=/etc/pushgateway/web/', `=${dir}/`))
      .filter((a) => !a.startsWith('--web.listen-address'));
    expect(args).toContain(`--web.config.file=${dir}/web-config.yml`);
    pgw = startProcess(binary!, [...args, `--web.listen-address=127.0.0.1:${port}`, '--persistence.file=']);
    url = `https://127.0.0.1:${port}`;
    for (let i = 0; i < 600 && (await request('GET', '/-/ready', true)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  });

  afterAll(async () => {
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An HTTPS request that verifies the server certificate against the test CA. */
  function request(method: string, route: string, withCredentials: boolean, body = ''): Promise<{ status: number; text: string }> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = withCredentials ? { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } : {};
      const req = https.request(`${url}${route}`, { method, ca: fs.readFileSync(ca), headers }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', (e) => resolve({ status: 0, text: e.message }));
      req.end(body);
    });
  }

  test('a push without credentials gets 401, with them it succeeds', async () => {
    const body = '# TYPE batch_job_success gauge\nbatch_job_success 1\n';
    expect((await request('POST', '/metrics/job/secured', false, body)).status).toBe(401);
    expect((await request('POST', '/metrics/job/secured', true, body)).status).toBe(200);
  });

  test('the scrape, as the ServiceMonitor makes it, needs the credentials too', async () => {
    expect((await request('GET', '/metrics', false)).status).toBe(401);
    const scrape = await request('GET', '/metrics', true);
    expect(scrape.status).toBe(200);
    expect(scrape.text).toMatch(/batch_job_success\{instance="",job="secured"\} 1/);
  });

  test('the push wrapper pushes over TLS with the credentials and the CA, and says 401 without them', async () => {
    const env = { PATH: process.env.PATH!, PUSHGATEWAY_URL: url, BATCH_JOB_NAME: 'wrapped-secured', PUSHGATEWAY_CA_FILE: ca };
    const denied = spawnSync('/bin/sh', [wrapper, 'true'], { encoding: 'utf8', env });
    expect(denied.status).toBe(0);
    expect(denied.stderr).toMatch(/https:\/\/127\.0\.0\.1:\d+\/metrics\/job\/wrapped-secured rejected the push \(HTTP 401.*not retried/);
    const pushed = spawnSync('/bin/sh', [wrapper, 'true'], { encoding: 'utf8', env: { ...env, PUSHGATEWAY_USERNAME: USER, PUSHGATEWAY_PASSWORD: PASSWORD } });
    expect(pushed.stderr).toBe('');
    expect((await request('GET', '/metrics', true)).text).toMatch(/batch_job_success\{instance="",job="wrapped-secured"\} 1/);
    // The password never reaches the error output, even when the push fails.
    const wrongCa = spawnSync('/bin/sh', [wrapper, 'true'], { encoding: 'utf8', env: { ...env, PUSHGATEWAY_CA_FILE: '/dev/null', PUSHGATEWAY_USERNAME: USER, PUSHGATEWAY_PASSWORD: PASSWORD, PUSHGATEWAY_RETRY_SECONDS: '1' } });
    expect(wrongCa.stderr).toMatch(/could not push/);
    expect(wrongCa.stderr).not.toContain(PASSWORD);
  });
});
