import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../config/load';
import { figure, figureRows, formatTable, npanelCli, writeResults } from './common';
import { canConnect, isPortFree, stackPorts, type StackPorts } from '../stack/ports';
import { stackHome } from '../stack/state-home';

/**
 * Stack benchmark: time from `up --detach` to every service ready, on an empty home (cold) and on the same
 * home again (warm: data kept), and the idle RSS of the whole stack. Run after `npm run build`:
 *
 *   node dist/bench/stack.js [--home DIR] [--port-base N] [--with-node-b] [--keep]
 *
 * Prints a table and writes bench/results/stack.json ({ figures: [{ name, goal, measured, unit, ratio, ok }] }).
 * It also records when each service first answered (per-service timeline), to show where start-up time goes.
 */

const GOAL_READY_S = 15;
const GOAL_RSS_MIB = 1.5 * 1024;
const IDLE_WAIT_MS = 5000;

interface StartRun {
  /** Wall time of `npanel up --detach` (what an operator waits), seconds. */
  wallS: number;
  /** The supervisor's own figure (from its start to ready), from `<home>/up.ready`. */
  supervisorS: number;
  /** Seconds after the `up` command started at which each service first answered. */
  answered: Record<string, number>;
  /** Seconds after the `up` command started at which each daemon was spawned (its log's `---` header). */
  spawned: Record<string, number>;
}

function parseArgs(argv: string[]) {
  const opts = { home: stackHome('.npanel-bench'), portBase: 43100, withNodeB: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--home') opts.home = path.resolve(argv[++i]!);
    else if (a === '--port-base') opts.portBase = Number(argv[++i]);
    else if (a === '--with-node-b') opts.withNodeB = true;
    else if (a === '--keep') opts.keep = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.portBase)) throw new Error('--port-base needs an integer');
  return opts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(500) })).status < 500;
  } catch {
    return false;
  }
}

/** What each service answers on: a TCP connect, or HTTP where the service speaks HTTP. */
function probes(p: StackPorts): Record<string, () => Promise<boolean>> {
  return {
    temporal: () => canConnect(p.temporal, '127.0.0.1', 200),
    'temporal-web': () => httpOk(`http://127.0.0.1:${p.temporalUi}/`),
    mariadb: () => canConnect(p.mysql, '127.0.0.1', 200),
    powerdns: () => httpOk(`http://127.0.0.1:${p.dnsApi}/`),
    nginx: () => canConnect(p.nginxHttp, '127.0.0.1', 200),
    dovecot: () => canConnect(p.imap, '127.0.0.1', 200),
    exim: () => canConnect(p.smtp, '127.0.0.1', 200),
    pureftpd: () => canConnect(p.ftp, '127.0.0.1', 200),
    'ssh-source': () => canConnect(p.ssh, '127.0.0.1', 200),
    pebble: () => canConnect(p.acme, '127.0.0.1', 200),
    // The worker's metrics port opens when its runtime is installed, before it polls; the log says when it polls.
    api: () => httpOk(`http://127.0.0.1:${p.api}/health`),
  };
}

/** Time of the last `--- <ISO time> <command>` header in a daemon's log: when the orchestrator spawned it. */
function spawnTimes(logDir: string, since: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const file of fs.existsSync(logDir) ? fs.readdirSync(logDir) : []) {
    if (!file.endsWith('.log') || file.startsWith('npanel-up') || file.includes('access')) continue;
    const headers = [...fs.readFileSync(path.join(logDir, file), 'utf8').matchAll(/^--- (\S+) /gm)];
    const last = headers[headers.length - 1];
    if (!last) continue;
    const t = Date.parse(last[1]!);
    if (t >= since - 1000) out[file.replace(/\.log$/, '')] = (t - since) / 1000;
  }
  return out;
}

/** When each worker logged `worker polling` in this run (pino lines carry an ISO `time`). */
function workerPollTimes(logDir: string, since: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const file of fs.readdirSync(logDir).filter((f) => /^worker(-\w+)?\.log$/.test(f))) {
    for (const line of fs.readFileSync(path.join(logDir, file), 'utf8').split('\n')) {
      if (!line.includes('"worker polling"')) continue;
      const t = Date.parse((JSON.parse(line) as { time: string }).time);
      if (t >= since) out[`${file.replace(/\.log$/, '')} (polling)`] = (t - since) / 1000;
    }
  }
  return out;
}

async function timedUp(home: string, portBase: number, withNodeB: boolean): Promise<StartRun> {
  const checks = probes(stackPorts(portBase));
  const answered: Record<string, number> = {};
  const started = Date.now();
  const args = ['up', '--detach', '--home', home, '--port-base', String(portBase)];
  if (withNodeB) args.push('--with-node-b');
  const up = npanelCli(args);
  let done = false;
  void up.then(() => (done = true));
  // Poll every 50 ms which services answer, so the table can show which one the start waits for.
  while (!done) {
    await Promise.all(
      Object.entries(checks)
        .filter(([name]) => answered[name] === undefined)
        .map(async ([name, check]) => {
          if (await check()) answered[name] ??= (Date.now() - started) / 1000;
        }),
    );
    await sleep(50);
  }
  const { code, output } = await up;
  const wallS = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`up failed (exit ${code}):\n${output}`);
  const logDir = path.join(home, 'logs');
  const ready = JSON.parse(fs.readFileSync(path.join(home, 'up.ready'), 'utf8')) as { readyMs: number };
  return {
    wallS,
    supervisorS: ready.readyMs / 1000,
    answered: { ...answered, ...workerPollTimes(logDir, started) },
    spawned: spawnTimes(logDir, started),
  };
}

interface Proc {
  pid: number;
  ppid: number;
  rssKiB: number;
  pssKiB: number;
  name: string;
  cmd: string;
}

function readProcs(): Proc[] {
  const out: Proc[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      let pssKiB = 0;
      try {
        pssKiB = Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      } catch {
        // kernel threads have no smaps_rollup
      }
      out.push({
        pid: Number(pid),
        ppid: Number(field('PPid')),
        rssKiB: Number(field('VmRSS').split(/\s+/)[0] || 0),
        pssKiB,
        name: field('Name'),
        cmd: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(),
      });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function subtree(procs: Proc[], rootPid: number): Proc[] {
  const ids = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (ids.has(p.ppid) && !ids.has(p.pid)) (ids.add(p.pid), (grew = true));
  }
  return procs.filter((p) => ids.has(p.pid));
}

/**
 * RSS of the supervisor, every daemon and their children (nginx workers, Dovecot's services, Exim's forks), plus
 * any process that names the home but left the tree. RSS counts shared pages once per process, so the sum is an
 * upper bound; PSS (shared pages split between their users) is recorded beside it.
 */
function stackMemory(home: string) {
  const pids = JSON.parse(fs.readFileSync(path.join(home, 'pids.json'), 'utf8')) as {
    supervisor: number;
    daemons: { name: string; pid: number }[];
  };
  const procs = readProcs();
  const tree = subtree(procs, pids.supervisor);
  // This bench names the home in its own command line: it is not part of the stack.
  const strays = procs.filter((p) => p.cmd.includes(home) && !tree.includes(p) && p.pid !== process.pid);
  const all = [...tree, ...strays];
  const byDaemon: Record<string, { processes: number; rssMiB: number; pssMiB: number }> = {};
  const counted = new Set<number>();
  for (const d of pids.daemons) {
    const mine = subtree(procs, d.pid);
    mine.forEach((p) => counted.add(p.pid));
    byDaemon[d.name] = {
      processes: mine.length,
      rssMiB: mine.reduce((s, p) => s + p.rssKiB, 0) / 1024,
      pssMiB: mine.reduce((s, p) => s + p.pssKiB, 0) / 1024,
    };
  }
  const rest = all.filter((p) => !counted.has(p.pid));
  byDaemon[rest.length > 1 ? 'supervisor (+ strays)' : 'supervisor'] = {
    processes: rest.length,
    rssMiB: rest.reduce((s, p) => s + p.rssKiB, 0) / 1024,
    pssMiB: rest.reduce((s, p) => s + p.pssKiB, 0) / 1024,
  };
  return {
    processes: all.length,
    rssMiB: all.reduce((s, p) => s + p.rssKiB, 0) / 1024,
    pssMiB: all.reduce((s, p) => s + p.pssKiB, 0) / 1024,
    byDaemon,
  };
}

function printTimeline(label: string, run: StartRun): void {
  process.stdout.write(`\n${label}: up --detach returned after ${run.wallS.toFixed(2)} s (supervisor: ${run.supervisorS.toFixed(2)} s)\n`);
  const names = [...new Set([...Object.keys(run.spawned), ...Object.keys(run.answered)])];
  const at = (n: string) => run.answered[n] ?? run.spawned[n] ?? 0;
  for (const n of names.sort((a, b) => at(a) - at(b))) {
    const s = run.spawned[n] !== undefined ? `spawned ${run.spawned[n]!.toFixed(2).padStart(6)} s` : ' '.repeat(16);
    const a = run.answered[n] !== undefined ? `answered ${run.answered[n]!.toFixed(2).padStart(6)} s` : '';
    process.stdout.write(`  ${n.padEnd(22)} ${s}  ${a}\n`);
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (fs.existsSync(path.join(opts.home, 'pids.json'))) await npanelCli(['down', '--home', opts.home]);
  fs.rmSync(opts.home, { recursive: true, force: true });
  const ports = stackPorts(opts.portBase);
  for (const p of [ports.api, ports.temporal, ports.mysql, ports.dns, ports.nginxHttp, ports.imap]) {
    if (!(await isPortFree(p))) throw new Error(`port ${p} of base ${opts.portBase} is taken: pick another --port-base`);
  }

  // These VMs are shared and noisy (run-to-run spread of about ±40% was measured here): the load before the run goes into the result.
  const loadAverage = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  try {
    const cold = await timedUp(opts.home, opts.portBase, opts.withNodeB);
    await sleep(IDLE_WAIT_MS);
    const memCold = stackMemory(opts.home);
    let res = await npanelCli(['down', '--home', opts.home]);
    if (res.code !== 0) throw new Error(`down failed:\n${res.output}`);

    const warm = await timedUp(opts.home, opts.portBase, opts.withNodeB);
    await sleep(IDLE_WAIT_MS);
    const memWarm = stackMemory(opts.home);
    if (!opts.keep) {
      res = await npanelCli(['down', '--home', opts.home]);
      if (res.code !== 0) throw new Error(`down failed:\n${res.output}`);
    }

    const mem = memCold.rssMiB >= memWarm.rssMiB ? memCold : memWarm;
    const figures = [
      figure('stack ready, cold (empty home)', GOAL_READY_S, cold.wallS, 's'),
      figure('stack ready, warm (data kept)', GOAL_READY_S, warm.wallS, 's'),
      figure('idle RSS of the whole stack', GOAL_RSS_MIB, mem.rssMiB, 'MiB'),
    ];
    process.stdout.write(formatTable(figureRows(figures)));
    process.stdout.write(`(load average before the run: ${loadAverage.join(' ')} on ${os.cpus().length} cores)\n`);
    printTimeline('cold start', cold);
    printTimeline('warm start', warm);
    process.stdout.write(`\nidle memory after ${IDLE_WAIT_MS / 1000} s (${mem.processes} processes; RSS sum, PSS):\n`);
    for (const [name, m] of Object.entries(mem.byDaemon).sort((a, b) => b[1].rssMiB - a[1].rssMiB)) {
      process.stdout.write(
        `  ${name.padEnd(22)} ${String(m.processes).padStart(3)} proc  ${m.rssMiB.toFixed(1).padStart(7)} MiB  ${m.pssMiB.toFixed(1).padStart(7)} MiB\n`,
      );
    }
    process.stdout.write(
      `  ${'total'.padEnd(22)} ${String(mem.processes).padStart(3)} proc  ${mem.rssMiB.toFixed(1).padStart(7)} MiB  ${mem.pssMiB.toFixed(1).padStart(7)} MiB\n`,
    );

    const details = {
      measuredAt: new Date().toISOString(),
      withNodeB: opts.withNodeB,
      loadAverage,
      cores: os.cpus().length,
      cold,
      warm,
      memory: { afterCold: memCold, afterWarm: memWarm },
    };
    const out = writeResults('stack', figures, details);
    process.stdout.write(`\nwrote ${path.relative(process.cwd(), out)}\n`);
    if (!figures.every((f) => f.ok)) process.exitCode = 1;
  } catch (err) {
    // Keep the home (stopped) so the daemons' logs can tell why it failed.
    if (fs.existsSync(path.join(opts.home, 'pids.json'))) await npanelCli(['down', '--home', opts.home]);
    throw new Error(`${(err as Error).message}\n(logs kept in ${path.join(opts.home, 'logs')})`);
  }
  if (!opts.keep) {
    if (fs.existsSync(path.join(opts.home, 'pids.json'))) await npanelCli(['down', '--home', opts.home]);
    fs.rmSync(opts.home, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
