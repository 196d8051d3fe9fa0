import fs from 'node:fs';
import { readPidFile } from '../cli/pids';

/**
 * CPU time used by a running stack, per daemon: its own time plus that of the children it reaped (openssl,
 * pure-pw, `nginx -t` spawned by the worker; nginx's old workers). On a shared, loaded machine wall times
 * swing several-fold, but the CPU an operation costs does not: CPU-seconds per account, divided by the
 * cores, is the wall time a quiet machine cannot beat.
 */

const TICK_MS = 10; // USER_HZ is 100 on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  ms: number;
}

function readStat(pid: string): ProcStat | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15) cutime(16) cstime(17).
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { pid: Number(pid), ppid: Number(f[1]), ms: ticks * TICK_MS };
  } catch {
    return null; // exited while we looked
  }
}

/** CPU ms so far of each daemon of the stack (its whole process tree), plus `supervisor` for the rest. */
export function stackCpu(home: string): Record<string, number> {
  const pids = readPidFile(home);
  if (!pids) throw new Error(`no pids.json in ${home}: is the stack running?`);
  const all = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(readStat)
    .filter((p): p is ProcStat => p !== null);
  const children = new Map<number, ProcStat[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const treeMs = (root: number, skip: Set<number>): number => {
    let sum = 0;
    const stack = [root];
    while (stack.length) {
      const pid = stack.pop()!;
      if (skip.has(pid)) continue;
      sum += all.find((p) => p.pid === pid)?.ms ?? 0;
      for (const c of children.get(pid) ?? []) stack.push(c.pid);
    }
    return sum;
  };
  const daemonPids = new Set(pids.daemons.map((d) => d.pid));
  const out: Record<string, number> = {};
  for (const d of pids.daemons) out[d.name] = (out[d.name] ?? 0) + treeMs(d.pid, new Set());
  out.supervisor = treeMs(pids.supervisor, daemonPids);
  return out;
}

/** after - before, per daemon, with a total. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after)) out[name] = ms - (before[name] ?? 0);
  out.total = Object.values(out).reduce((s, v) => s + v, 0);
  return out;
}
