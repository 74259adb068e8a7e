import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPushgateway } from './processes';

// The cleanup program's own Pushgateway client: node:http on kept-alive connections (fetch costs
// several times the CPU per request, and thousands of them made most of this helper's cost).
const { makeClient } = require('../../lib/cleanup/http-client') as {
  makeClient(options: { url: string; concurrency: number; timeout: number; retries: number }): {
    request(method: string, path: string, options: { body: string }): Promise<unknown>;
    close(): void;
  };
};

/**
 * A persistence file of the real Pushgateway holding `paths` (group paths under /metrics/, pushed
 * with `body`), written fast: a Pushgateway with its consistency check off takes the pushes (the
 * check costs time in proportion to the groups held: over 10 minutes for 15,000), then writes the
 * file on its graceful stop. A Pushgateway started on the file holds the same groups, with the
 * consistency check on, as in a cluster. Returns the file, in `dir`.
 */
export async function pushgatewayStore(binary: string, dir: string, paths: string[], body: (p: string) => string): Promise<string> {
  const file = path.join(dir, 'pushgateway.data');
  const pgw = await startPushgateway(binary, ['--push.disable-consistency-check', `--persistence.file=${file}`, '--persistence.interval=1h']);
  try {
    const client = makeClient({ url: pgw.url, concurrency: 16, timeout: 60_000, retries: 0 });
    let next = 0;
    try {
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < paths.length) {
          const p = paths[next++];
          await client.request('PUT', `/metrics/${p}`, { body: body(p) });
        }
      }));
    } finally {
      client.close();
    }
    // Without the check, pushes are queued (202): wait until the store holds them all.
    for (let i = 0; (await groupCount(pgw.url)) < paths.length; i++) {
      if (i > 600) throw new Error(`the Pushgateway never held ${paths.length} groups`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    // Writing a large store takes a while on a busy machine.
    await pgw.stop('SIGTERM', 300_000);
  }
  if (!fs.existsSync(file)) throw new Error(`the Pushgateway wrote no persistence file ${file}`);
  return file;
}

/**
 * A Pushgateway as in a cluster (the consistency check on), with `env`, started on a store of
 * `paths` that `pushgatewayStore` wrote into a temporary folder; `dispose` stops it and removes the folder.
 */
export async function startOnStore(binary: string, paths: string[], body: (p: string) => string, env?: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushgateway-store-'));
  try {
    const file = await pushgatewayStore(binary, dir, paths, body);
    const pgw = await startPushgateway(binary, [`--persistence.file=${file}`, '--persistence.interval=1h'], undefined, env);
    return {
      ...pgw,
      async dispose(): Promise<void> {
        await pgw.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The groups of a Pushgateway, counted from the push_time_seconds lines of GET /metrics. */
export async function groupCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let count = 0;
  for (let i = text.indexOf('\npush_time_seconds{'); i !== -1; i = text.indexOf('\npush_time_seconds{', i + 1)) count++;
  return count;
}

/**
 * The peak resident memory of a process over a stretch of time: its high-water mark (VmHWM) is
 * reset at the start (`5` written to /proc/<pid>/clear_refs) and read at the end, so that no
 * short spike between two samples is missed; VmRSS is sampled every 10 ms as well.
 */
export function peakRss(pid: number): { stop(): { peakMiB: number; sampledMiB: number } } {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  let sampled = status(pid, 'VmRSS');
  const timer = setInterval(() => {
    // A process that has exited has no VmRSS any more: keep what was sampled.
    try { sampled = Math.max(sampled, status(pid, 'VmRSS')); } catch { clearInterval(timer); }
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      sampled = Math.max(sampled, status(pid, 'VmRSS'));
      return { peakMiB: Math.max(status(pid, 'VmHWM'), sampled), sampledMiB: sampled };
    },
  };
}

/** A memory field of /proc/<pid>/status (VmRSS, VmHWM, ...) in MiB. */
export function status(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}
