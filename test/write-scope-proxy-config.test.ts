import { describe, expect, test } from 'vitest';
import { ProxyConfigSpec, writeScopeProxyConfig } from '../lib/write-scope-proxy-config';

const spec: ProxyConfigSpec = {
  listen: '9091',
  tls: false,
  upstreamPort: 9092,
  routePrefix: '',
  maintainerNamespace: 'monitoring',
  namespaces: ['monitoring'],
  jobs: [{ name: 'nightly-export', namespace: 'etl' }, { name: 'backup', namespace: 'ops' }, { name: 'pushgateway-cleanup', namespace: 'monitoring' }],
  htpasswdDir: '/etc/pushgateway-proxy/htpasswd',
  tlsDir: '/etc/pushgateway/tls',
  noUsersFile: '/etc/pushgateway-proxy/config/no-users',
  runDir: '/tmp',
  accessLog: '/dev/stdout',
};

describe('the write-scope proxy configuration', () => {
  test('snapshot', async () => {
    await expect(writeScopeProxyConfig(spec)).toMatchFileSnapshot('__snapshots__/write-scope-proxy.nginx.conf');
  });

  test('depends on the set of jobs and namespaces, not on their order', () => {
    const reordered = { ...spec, jobs: [...spec.jobs].reverse(), namespaces: ['monitoring', 'ops'] };
    expect(writeScopeProxyConfig(reordered)).toBe(writeScopeProxyConfig(spec));
  });

  test('each job is written by its own namespace only, and each namespace has one user file', () => {
    const conf = writeScopeProxyConfig(spec);
    expect(conf).toContain('"nightly-export" "etl";');
    expect(conf).toContain('"backup" "ops";');
    expect(conf).toContain('"~^etl:etl:(PUT|POST|DELETE):0$" "";');
    expect(conf).not.toMatch(/"~\^etl:ops/);
    for (const ns of ['etl', 'ops', 'monitoring']) expect(conf).toContain(`"${ns}" "/etc/pushgateway-proxy/htpasswd/${ns}";`);
  });

  test('a route prefix is escaped in regular expressions and prefixes every location', () => {
    const conf = writeScopeProxyConfig({ ...spec, routePrefix: '/push.gateway' });
    expect(conf).toContain('location ~ ^\\/push\\.gateway/metrics/job/(?<pg_job>[^/]+) {');
    expect(conf).toContain('location = /push.gateway/-/ready {');
    expect(conf).toContain('location ^~ /push.gateway/api/v1/admin {');
    expect(conf).toContain('location / {\n      return 404;');
  });

  test('a namespace or job named like a map parameter stays a key', () => {
    const conf = writeScopeProxyConfig({ ...spec, jobs: [{ name: 'default', namespace: 'default' }, { name: 'nightly', namespace: 'team-a' }] });
    expect(conf).toContain('"\\default" "default";');
    expect(conf).toContain('"nightly" "team-a";');
    expect(conf).toContain('"team-a" "team-a";');
  });

  test('TLS reads the certificate at each handshake', () => {
    const conf = writeScopeProxyConfig({ ...spec, tls: true });
    expect(conf).toContain('listen 9091 ssl;');
    expect(conf).toContain('ssl_certificate $pg_tls_dir/tls.crt;');
  });
});
