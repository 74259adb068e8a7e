import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A test-only basic-auth user, and the bcrypt hash (cost 10) of its password the Pushgateway checks. */
export const TEST_USER = 'pusher';
export const TEST_PASSWORD = 'cleanup-test-password';
const TEST_HASH = '$2b$10$brMqbcXXOYkmmkF9OKSODOjPJuxoJtIP9UQ4pUwcrsrFTBovKbvYa';

/**
 * Writes into `dir` what the Pushgateway's Secrets would hold: a test CA, a certificate it signed
 * for 127.0.0.1, and a web config with TLS and the test user. Returns the CA file clients trust.
 */
export function writeSecuredWebConfig(openssl: string, dir: string): { webConfig: string; ca: string } {
  const ssl = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'tls.key', '-out', 'tls.csr');
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'tls.crt');
  const webConfig = path.join(dir, 'web-config.yml');
  fs.writeFileSync(webConfig, [
    'tls_server_config:',
    `  cert_file: ${dir}/tls.crt`,
    `  key_file: ${dir}/tls.key`,
    'basic_auth_users:',
    `  ${TEST_USER}: ${TEST_HASH}`,
    '',
  ].join('\n'));
  return { webConfig, ca: path.join(dir, 'ca.crt') };
}
