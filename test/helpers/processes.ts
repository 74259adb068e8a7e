import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stringify } from 'yaml';

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A server process started by a test, stopped by its PID only. */
export interface RunningProcess {
  readonly pid: number;
  readonly output: () => string;
  /** Sends `signal` (SIGTERM: a graceful stop) to this PID and waits for it to exit, SIGKILL after `killAfterMs`. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<void>;
}

export function startProcess(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): RunningProcess {
  const env = options.env ? { ...process.env, ...options.env } : undefined;
  const child: ChildProcess = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, signal);
        const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), killAfterMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `url` until it answers 200, or fails with the process output after `timeoutMs`. */
export async function waitForHttp(url: string, proc: RunningProcess, timeoutMs = 90_000, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last}); process output:\n${proc.output()}`);
}

/**
 * Starts Debian's prometheus-pushgateway on 127.0.0.1 with a free port. `args` are the flags the
 * construct synthesized; the listen address is replaced so the test never binds another address
 * (`port` restarts one on the port it had); `env` adds environment variables (e.g. the GOMEMLIMIT
 * the construct sets).
 */
export async function startPushgateway(binary: string, args: string[] = [], port?: number, env?: Record<string, string>): Promise<RunningProcess & { url: string; port: number }> {
  port ??= await freePort();
  const flags = [...args.filter((a) => !a.startsWith('--web.listen-address')), `--web.listen-address=127.0.0.1:${port}`];
  // Debian's build defaults --persistence.file to a shared /var/lib/prometheus/pushgateway.data;
  // an empty value restores upstream's default (memory only), so tests never share state.
  if (!flags.some((a) => a.startsWith('--persistence.file'))) flags.push('--persistence.file=');
  const proc = startProcess(binary, flags, { env });
  const prefix = flags.find((a) => a.startsWith('--web.route-prefix='))?.split('=')[1] ?? '';
  const url = `http://127.0.0.1:${port}${prefix}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return { ...proc, url, port };
}

/**
 * Starts Debian's prometheus on 127.0.0.1 with a free port, a temp data folder, `config` as its
 * prometheus.yml and `ruleGroups` (PrometheusRule spec.groups) as its one rule file.
 */
export async function startPrometheus(binary: string, dir: string, config: object, ruleGroups: object[] = [], extraArgs: string[] = []): Promise<RunningProcess & { url: string }> {
  const port = await freePort();
  const rules = path.join(dir, 'rules.yaml');
  fs.writeFileSync(rules, stringify({ groups: ruleGroups }));
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, stringify({ ...config, rule_files: [rules] }));
  const proc = startProcess(binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...extraArgs,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return { ...proc, url };
}

/**
 * The scrape config prometheus-operator generates from the synthesized ServiceMonitor `endpoint`:
 * the job is the Service name, and the target carries the namespace, service, pod, endpoint and
 * container labels; the target itself is the test's Pushgateway on `port`.
 */
export function serviceMonitorScrapeConfig(jobName: string, endpoint: any, port: number): object {
  return {
    job_name: jobName,
    honor_labels: endpoint.honorLabels,
    metrics_path: endpoint.path,
    static_configs: [{
      targets: [`127.0.0.1:${port}`],
      labels: { namespace: 'monitoring', service: 'pushgateway', endpoint: endpoint.port, pod: 'pushgateway-7d9f8-abcde', container: 'pushgateway' },
    }],
  };
}

/**
 * The loop a synthesized chart describes, with real parts: a Pushgateway started with the
 * Deployment's args (its data in `dir`), and a Prometheus that scrapes it as the ServiceMonitor
 * says and evaluates every PrometheusRule's groups, both every second. `args` restarts the
 * Pushgateway on the same data.
 */
export async function startSynthesizedLoop(binaries: { pushgateway: string; prometheus: string }, s: { find(kind: string): any; all(kind: string): any[] }, pushgatewayName: string, dir: string) {
  const args = (s.find('Deployment').spec.template.spec.containers[0].args as string[]).map((a) => a.replace('=/data/', `=${dir}/`));
  const pgw = await startPushgateway(binaries.pushgateway, args);
  const prometheus = await startPrometheus(binaries.prometheus, dir, {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [serviceMonitorScrapeConfig(pushgatewayName, s.find('ServiceMonitor').spec.endpoints[0], pgw.port)],
  }, s.all('PrometheusRule').flatMap((r) => r.spec.groups));
  return { args, pgw, prometheus };
}

/**
 * Starts Alertmanager on 127.0.0.1 with a free port, `config` (alertmanager.yaml text) and a temp
 * storage folder under `dir`; clustering off, as one replica needs no peers.
 */
export async function startAlertmanager(binary: string, dir: string, config: string): Promise<RunningProcess & { url: string; port: number }> {
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'alertmanager.yaml');
  fs.writeFileSync(configFile, config);
  const args = [
    `--config.file=${configFile}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ];
  // Debian's build reads its default notification template from /usr/share/prometheus/alertmanager,
  // a path compiled in. The unpacked package (npm run binaries) has it beside the binary: lay that
  // share folder over /usr/share in a mount namespace of the process's own, which changes nothing
  // outside it. sh and the binary exec in turn, so the PID stays the Alertmanager's.
  const share = path.resolve(path.dirname(binary), '..', 'share');
  const proc = fs.existsSync(path.join(share, 'prometheus', 'alertmanager', 'default.tmpl'))
    ? startProcess('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c',
      `mount -t overlay overlay -o lowerdir=${share}:/usr/share /usr/share && exec "$0" "$@"`, binary, ...args])
    : startProcess(binary, args);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return { ...proc, url, port };
}

export interface CommandResult { readonly code: number | null; readonly stdout: string; readonly stderr: string }

/** A command started by runningCommand: its result when it ends, and its stderr so far meanwhile. */
export interface RunningCommand {
  readonly result: Promise<CommandResult>;
  readonly stderr: () => string;
}

/**
 * Starts a command without blocking this process, so that servers the test starts or stops
 * meanwhile keep answering; a test can wait for what it says before acting (waitForOutput).
 */
export function runningCommand(command: string, args: string[], env: NodeJS.ProcessEnv): RunningCommand {
  let stdout = '';
  let stderr = '';
  const result = new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { result, stderr: () => stderr };
}

/** Runs a command to its end without blocking this process (see runningCommand). */
export function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return runningCommand(command, args, env).result;
}

/**
 * Waits until `output()` contains `text`: a test acts on what a program has done, not on a guess
 * of how long that takes on a loaded machine. Fails after `timeoutMs` with the output so far.
 */
export async function waitForOutput(output: () => string, text: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`${JSON.stringify(text)} not written within ${timeoutMs} ms; the output was:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The groups of a Pushgateway, as its API lists them. */
export async function pushgatewayGroups(url: string): Promise<Array<Record<string, any>>> {
  return ((await (await fetch(`${url}/api/v1/metrics`)).json()) as { data: Array<Record<string, any>> }).data;
}

/** The value of `metric` in the group of `job` (alone in its grouping key), if there is one. */
export async function pushedValue(url: string, job: string, metric: string): Promise<number | undefined> {
  const group = (await pushgatewayGroups(url)).find((g) => g.labels.job === job && Object.keys(g.labels).length === 1);
  return group?.[metric] ? Number(group[metric].metrics[0].value) : undefined;
}
