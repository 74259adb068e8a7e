import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BatchMonitoringChart, CleanupCronJob } from '../../lib';
import { writeScopeProxyConfig } from '../../lib/write-scope-proxy-config';
import { findBinary } from '../helpers/binaries';
import { RunningProcess, freePort, pushgatewayGroups, runCommand, startProcess, startPrometheus, startPushgateway, waitForHttp } from '../helpers/processes';
import { synth } from '../helpers/synth';
import { TEST_PASSWORD, writeSecuredWebConfig } from '../helpers/tls';

const pushgatewayBinary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const prometheusBinary = findBinary('prometheus', 'prometheus');
const nginx = findBinary('nginx', 'nginx');
const openssl = findBinary('openssl', 'openssl');

// bcrypt (cost 10) of TEST_PASSWORD, as `htpasswd -nbB` writes it; the other users get SHA-512 crypt from openssl.
const BCRYPT_HASH = '$2b$10$brMqbcXXOYkmmkF9OKSODOjPJuxoJtIP9UQ4pUwcrsrFTBovKbvYa';
const PASSWORDS: Record<string, string> = { 'team-a': 'team-a-password', 'team-b': TEST_PASSWORD, monitoring: 'monitoring-password' };
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const BODY = '# TYPE batch_job_success gauge\nbatch_job_success 1\n';

/**
 * Debian's nginx with the configuration synthesized from the declared jobs, in front of the real
 * Pushgateway with its synthesized flags (the admin and lifecycle APIs on, to show the proxy keeps
 * them out of reach), as in the pod: the
 * Pushgateway on 127.0.0.1 behind it, an htpasswd file per namespace as the projected Secrets
 * would hold them, and Prometheus scraping through the proxy with the maintainer's credentials.
 */
describe.skipIf(!pushgatewayBinary || !prometheusBinary || !nginx || !openssl)('the write-scope proxy (nginx) in front of the real Pushgateway', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'write-scope-'));
  let pgw: RunningProcess & { url: string; port: number };
  let proxy: RunningProcess;
  let prometheus: RunningProcess & { url: string };
  let url: string;

  beforeAll(async () => {
    // nginx runs as nobody (65534), as in the pod: it reads the files and writes only in the run folder.
    fs.chmodSync(dir, 0o755);
    if (asRoot) fs.chownSync(dir, NOBODY, NOBODY);
    const htpasswd = path.join(dir, 'htpasswd');
    fs.mkdirSync(htpasswd, { mode: 0o755 });
    const sha512 = (password: string) => execFileSync(openssl!, ['passwd', '-6', password], { encoding: 'utf8' }).trim();
    fs.writeFileSync(path.join(htpasswd, 'team-a'), `team-a:${sha512(PASSWORDS['team-a'])}\n`, { mode: 0o644 });
    fs.writeFileSync(path.join(htpasswd, 'team-b'), `team-b:${BCRYPT_HASH}\n`, { mode: 0o644 });
    // Two users of one namespace: a password rotation.
    fs.writeFileSync(path.join(htpasswd, 'monitoring'),
      `monitoring:${sha512(PASSWORDS.monitoring)}\nmonitoring.next:${sha512('next-password')}\n`, { mode: 0o644 });
    // team-c has jobs but its Secret was never created.

    // The Pushgateway and the proxy's configuration exactly as synthesized from the declared jobs;
    // only the paths of the pod (Secrets, ConfigMap, emptyDir) and the ports move to this machine.
    const chart = new BatchMonitoringChart(Testing.app(), 'test', { pushgateway: { writeScope: {}, enableAdminApi: true, enableLifecycle: true } });
    const declare = (name: string, namespace: string) => chart.addJob({ name, namespace, interval: Duration.days(1), maxDuration: Duration.minutes(5) });
    declare('a-export', 'team-a');
    declare('b-report', 'team-b');
    declare('c-job', 'team-c');
    // Names that are also nginx map parameters must stay plain keys.
    declare('default', 'default');
    const s = synth(chart);
    const flags: string[] = s.find('Deployment').spec.template.spec.containers[0].args;
    expect(flags).toContain('--web.listen-address=127.0.0.1:9092');
    pgw = await startPushgateway(pushgatewayBinary!, flags.filter((a) => !a.startsWith('--persistence.')));
    const port = await freePort();
    const configMap = s.find('ConfigMap', 'pushgateway-proxy');
    const config = (configMap.data['nginx.conf'] as string)
      .replace('listen 9091;', `listen 127.0.0.1:${port};`)
      .replaceAll('http://127.0.0.1:9092', `http://127.0.0.1:${pgw.port}`)
      .replaceAll('/etc/pushgateway-proxy/htpasswd', htpasswd)
      .replaceAll('/etc/pushgateway-proxy/config/', `${dir}/`)
      .replaceAll(' /tmp/', ` ${dir}/`)
      .replace('access_log /dev/stdout', `access_log ${dir}/access.log`);
    fs.writeFileSync(path.join(dir, 'no-users'), configMap.data['no-users'] ?? '', { mode: 0o644 });
    const configFile = path.join(dir, 'nginx.conf');
    fs.writeFileSync(configFile, config, { mode: 0o644 });
    const [command, ...args] = [...(asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : []), nginx!];
    execFileSync(command, [...args, '-t', '-q', '-e', 'stderr', '-p', dir, '-c', configFile], { stdio: 'pipe' });
    // setpriv executes nginx in its own process: the PID is nginx's master.
    proxy = startProcess(command, [...args, '-e', 'stderr', '-p', dir, '-c', configFile, '-g', 'daemon off;']);
    url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/-/ready`, proxy);

    fs.mkdirSync(path.join(dir, 'prometheus'));
    prometheus = await startPrometheus(prometheusBinary!, path.join(dir, 'prometheus'), {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{
        job_name: 'pushgateway',
        honor_labels: true,
        basic_auth: { username: 'monitoring', password: PASSWORDS.monitoring },
        static_configs: [{ targets: [`127.0.0.1:${port}`] }],
      }],
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await proxy?.stop('SIGQUIT');
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A request sent with the path exactly as given (fetch would resolve dot segments first). */
  function send(method: string, route: string, user?: string, password = user ? PASSWORDS[user] : undefined): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
    const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {};
    return new Promise((resolve, reject) => {
      const req = http.request(`${url}/`, { method, path: route, headers }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(['PUT', 'POST'].includes(method) ? BODY : undefined);
    });
  }

  const groups = async () => (await pushgatewayGroups(pgw.url)).map((g) => g.labels.job as string).sort();

  test('a namespace\'s credentials push to its own jobs (2xx) and are refused on another namespace\'s (403)', async () => {
    expect((await send('POST', '/metrics/job/a-export', 'team-a')).status).toBe(200);
    expect((await send('PUT', '/metrics/job/a-export/batch_container/main', 'team-a')).status).toBe(200);
    const refused = await send('POST', '/metrics/job/b-report', 'team-a');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('job "b-report" is declared in namespace "team-b"');
    // bcrypt hashes work as well.
    expect((await send('POST', '/metrics/job/b-report', 'team-b')).status).toBe(200);
    expect((await send('POST', '/metrics/job/a-export', 'team-b')).status).toBe(403);
    expect(await groups()).toEqual(['a-export', 'a-export', 'b-report']);
  });

  test('deletes likewise: only the job\'s namespace, or the maintainer (the cleanup)', async () => {
    expect((await send('DELETE', '/metrics/job/b-report', 'team-a')).status).toBe(403);
    expect((await send('DELETE', '/metrics/job/a-export/batch_container/main', 'team-a')).status).toBe(202);
    expect((await send('POST', '/metrics/job/a-export/batch_container/main', 'team-a')).status).toBe(200);
    expect((await send('DELETE', '/metrics/job/a-export/batch_container/main', 'monitoring')).status).toBe(202);
    // The maintainer deletes groups of any job, declared or not, in any form the cleanup sends.
    expect((await send('DELETE', '/metrics/job@base64/YS9i/instance/x%20y', 'monitoring')).status).toBe(202);
    expect(await groups()).toEqual(['a-export', 'b-report']);
  });

  test('without credentials, or with a wrong password, 401 with a challenge; an unknown user too', async () => {
    const none = await send('POST', '/metrics/job/a-export');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="pushgateway"');
    expect((await send('POST', '/metrics/job/a-export', 'team-a', 'wrong')).status).toBe(401);
    expect((await send('POST', '/metrics/job/a-export', 'mallory', 'x')).status).toBe(401);
    expect((await send('POST', '/metrics/job/default', 'mallory', 'x')).status).toBe(401);
    // A user name that claims a namespace as a prefix is not that namespace's.
    expect((await send('POST', '/metrics/job/a-export', 'team-ab', 'x')).status).toBe(401);
  });

  test('a namespace whose htpasswd Secret is missing cannot push, and the others are not affected', async () => {
    expect((await send('POST', '/metrics/job/c-job', 'team-c', 'anything')).status).toBeGreaterThanOrEqual(400);
    expect((await send('POST', '/metrics/job/c-job', 'team-c', 'anything')).status).toBeLessThan(500);
    expect((await send('POST', '/metrics/job/a-export', 'team-a')).status).toBe(200);
  });

  test('a second user of a namespace (<namespace>.<name>) works: passwords rotate without a gap', async () => {
    expect((await send('GET', '/api/v1/status', 'monitoring.next', 'next-password')).status).toBe(200);
  });

  test('undeclared jobs, other encodings of a job, and paths that nginx and the Pushgateway would read differently are refused', async () => {
    const undeclared = await send('POST', '/metrics/job/not-declared', 'team-a');
    expect(undeclared.status).toBe(403);
    expect(undeclared.text).toContain('job "not-declared" is not declared');
    // The base64 form has many spellings of one name: tenants use the plain one.
    expect((await send('POST', `/metrics/job@base64/${Buffer.from('b-report').toString('base64url')}`, 'team-a')).status).toBe(403);
    expect((await send('POST', `/metrics/job@base64/${Buffer.from('a-export').toString('base64url')}`, 'team-a')).status).toBe(403);
    for (const odd of ['/metrics/job/a-export/x/..%2F..%2Fb-report', '/metrics/job/b-report/../a-export', '/metrics/job/a-export//x/y', '/metrics/job/a%2Dexport']) {
      expect([400, 403], odd).toContain((await send('POST', odd, 'team-a')).status);
    }
    // The Pushgateway takes the job from the first segment: a later `job` label cannot change it.
    expect((await send('POST', '/metrics/job/a-export/job/b-report', 'team-a')).status).toBe(200);
    const forged = (await pushgatewayGroups(pgw.url)).filter((g) => g.labels.job === 'b-report');
    expect(forged.map((g) => g.labels)).toEqual([{ job: 'b-report' }]);
    expect((await send('DELETE', '/metrics/job/a-export/job/b-report', 'team-a')).status).toBe(202);
  });

  test('the admin and lifecycle APIs are not reachable through the proxy, whoever asks', async () => {
    for (const user of [undefined, 'team-a', 'monitoring']) {
      expect((await send('PUT', '/api/v1/admin/wipe', user)).status).toBe(403);
      expect((await send('PUT', '/-/quit', user)).status).toBe(403);
      expect((await send('POST', '/-/reload', user)).status).toBe(403);
      expect((await send('PUT', '//api/v1/admin/wipe', user)).status).toBe(403);
      expect((await send('PUT', '/api/v1/%61dmin/wipe', user)).status).toBe(403);
    }
    expect((await groups()).length).toBeGreaterThan(0);
    expect((await fetch(`${pgw.url}/-/healthy`)).status).toBe(200);
  });

  test('reads are the maintainer\'s; the probes need no credentials', async () => {
    expect((await send('GET', '/metrics', 'team-a')).status).toBe(403);
    expect((await send('GET', '/api/v1/metrics', 'team-a')).status).toBe(403);
    expect((await send('GET', '/metrics')).status).toBe(401);
    expect((await send('GET', '/metrics', 'monitoring')).status).toBe(200);
    expect((await send('GET', '/-/healthy')).status).toBe(200);
    expect((await send('GET', '/-/ready')).status).toBe(200);
  });

  test('Prometheus scrapes through the proxy with the maintainer\'s credentials', async () => {
    let result: Array<{ metric: Record<string, string> }> = [];
    for (let i = 0; i < 150 && result.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent('batch_job_success{job="b-report"}')}`);
      result = ((await res.json()) as any).data.result;
    }
    expect(result.map((r) => r.metric.job)).toEqual(['b-report']);
    const up = await (await fetch(`${prometheus.url}/api/v1/query?query=up`)).json() as any;
    expect(up.data.result[0].value[1]).toBe('1');
  });

  test('the cleanup program works through the proxy with the maintainer\'s credentials: lists, deletes, pushes its own run', async () => {
    expect((await send('POST', '/metrics/job/b-report/instance/old', 'team-b')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3100));
    expect((await send('POST', '/metrics/job/b-report', 'team-b')).status).toBe(200);
    // Ages from the moment of the second push (--now), not from whenever the cleanup gets to read on
    // a loaded machine: the first group is over 3 s old then and goes, the second is not and stays.
    const now = String(Math.ceil(Date.now() / 1000));
    const result = await runCommand(process.execPath, [CleanupCronJob.programPath(), '--max-age=2s', `--now=${now}`, '--push-metrics'], {
      PATH: process.env.PATH ?? '', PUSHGATEWAY_URL: url, PUSHGATEWAY_USERNAME: 'monitoring', PUSHGATEWAY_PASSWORD: PASSWORDS.monitoring,
    });
    expect(result.code, result.stderr).toBe(0);
    const after = (await pushgatewayGroups(pgw.url)).map((g) => JSON.stringify(g.labels));
    expect(after).not.toContain(JSON.stringify({ instance: 'old', job: 'b-report' }));
    expect(after).toContain(JSON.stringify({ job: 'b-report' }));
    expect(after).toContain(JSON.stringify({ job: 'pushgateway-cleanup' }));
  });

  test('the access log names who did what', () => {
    expect(fs.readFileSync(path.join(dir, 'access.log'), 'utf8')).toMatch(/team-a "POST \/metrics\/job\/b-report" 403/);
  });
});

/**
 * The proxy serving HTTPS: it reads the certificate at each handshake, so a renewed certificate
 * (cert-manager rewriting the Secret) is served without a restart, as the Pushgateway itself does.
 */
describe.skipIf(!pushgatewayBinary || !nginx || !openssl)('the write-scope proxy over TLS', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'write-scope-tls-'));
  let pgw: RunningProcess & { url: string; port: number };
  let proxy: RunningProcess;
  let port: number;

  beforeAll(async () => {
    fs.chmodSync(dir, 0o755);
    if (asRoot) fs.chownSync(dir, NOBODY, NOBODY);
    writeSecuredWebConfig(openssl!, dir);
    fs.chmodSync(path.join(dir, 'tls.key'), 0o644);
    fs.mkdirSync(path.join(dir, 'htpasswd'), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'htpasswd', 'team-b'), `team-b:${BCRYPT_HASH}\n`, { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'no-users'), '', { mode: 0o644 });
    pgw = await startPushgateway(pushgatewayBinary!, ['--web.route-prefix=/pushgateway']);
    port = await freePort();
    const configFile = path.join(dir, 'nginx.conf');
    fs.writeFileSync(configFile, writeScopeProxyConfig({
      listen: `127.0.0.1:${port}`,
      tls: true,
      upstreamPort: pgw.port,
      routePrefix: '/pushgateway',
      maintainerNamespace: 'monitoring',
      namespaces: [],
      jobs: [{ name: 'b-report', namespace: 'team-b' }],
      htpasswdDir: path.join(dir, 'htpasswd'),
      tlsDir: dir,
      noUsersFile: path.join(dir, 'no-users'),
      runDir: dir,
      accessLog: path.join(dir, 'access.log'),
    }), { mode: 0o644 });
    const [command, ...args] = [...(asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : []), nginx!];
    proxy = startProcess(command, [...args, '-e', 'stderr', '-p', dir, '-c', configFile, '-g', 'daemon off;']);
    for (let i = 0; i < 100 && (await push('/pushgateway/-/ready', 'GET')).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  });

  afterAll(async () => {
    await proxy?.stop('SIGQUIT');
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A request verified against the current test CA, on a new connection (a new handshake). */
  function push(route: string, method = 'POST'): Promise<{ status: number; fingerprint: string }> {
    return new Promise((resolve) => {
      const req = https.request(`https://127.0.0.1:${port}${route}`, {
        method, agent: false, ca: fs.readFileSync(path.join(dir, 'ca.crt')),
        headers: { authorization: `Basic ${Buffer.from(`team-b:${TEST_PASSWORD}`).toString('base64')}` },
      }, (res) => {
        const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint }));
      });
      req.on('error', () => resolve({ status: 0, fingerprint: '' }));
      req.end(method === 'POST' ? BODY : undefined);
    });
  }

  test('pushes over TLS below the route prefix, and serves a renewed certificate without a restart', async () => {
    const first = await push('/pushgateway/metrics/job/b-report');
    expect(first.status).toBe(200);
    expect((await push('/metrics/job/b-report')).status).toBe(404);
    writeSecuredWebConfig(openssl!, dir);
    fs.chmodSync(path.join(dir, 'tls.key'), 0o644);
    const second = await push('/pushgateway/metrics/job/b-report');
    expect(second.status).toBe(200);
    expect(second.fingerprint).not.toBe(first.fingerprint);
  });
});
