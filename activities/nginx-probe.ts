import fs from 'node:fs';
import http from 'node:http';
import { PROBE_HOST, PROBE_PATH } from './nginx-vhost';

/**
 * How the reloader knows a reload is done: the default server answers "<generation> <worker pid>" on a probe
 * path (Host `_probe.npanel`, which no vhost can claim). Linux /proc gives the master (the worker's parent)
 * and its workers, so we can also see the old workers retire.
 */

/** If the old workers are unknown, the master's fixed 100 ms pause before it retires them, plus a margin. */
const OLD_WORKER_FALLBACK_MS = 150;

export function probeGeneration(host: string, port: number): Promise<{ generation: number; pid: number } | null> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: PROBE_PATH, headers: { host: PROBE_HOST }, agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const m = /^(\d+) (\d+)/.exec(body.trim());
        resolve(res.statusCode === 200 && m ? { generation: Number(m[1]), pid: Number(m[2]) } : null);
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** All workers of the master that runs `workerPid` (itself included); null if /proc cannot tell. */
export function siblingWorkers(workerPid: number): number[] | null {
  const stat = read(`/proc/${workerPid}/stat`);
  // ppid is the 2nd field after the ')' that ends the command name (which may itself contain spaces).
  const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
  if (!Number.isInteger(ppid) || ppid <= 1) return null;
  const list = read(`/proc/${ppid}/task/${ppid}/children`);
  return list === null ? null : list.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** An old worker stops accepting when it retitles itself "worker process is shutting down" (or exits). */
function notAccepting(pid: number): boolean {
  const cmdline = read(`/proc/${pid}/cmdline`);
  return cmdline === null || cmdline.length === 0 || cmdline.includes('shutting down');
}

/**
 * Resolves once new requests can only meet the config of `generation`: the probe reports it AND every old
 * worker has stopped accepting. Without a list of old workers, waits the fixed fallback instead.
 */
export async function waitUntilServed(
  host: string,
  port: number,
  generation: number,
  oldWorkers: number[] | null,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await probeGeneration(host, port);
    if (now?.generation === generation && (oldWorkers ?? []).every(notAccepting)) {
      if (!oldWorkers) await new Promise((r) => setTimeout(r, OLD_WORKER_FALLBACK_MS));
      return;
    }
    if (Date.now() > deadline) throw new Error(`nginx did not serve config generation ${generation} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
