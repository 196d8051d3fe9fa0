import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { isAlive, readPidFile, waitUntilGone, type PidFile } from '../../cli/pids';
import { repoRoot } from '../../config/load';
import { createStackContext, hostingNodes, type StackContext } from '../../stack/context';
import type { RunningDaemon } from '../../stack/daemon';
import { processEnv } from '../../stack/env';
import { startMariadb } from '../../stack/services/mariadb';
import { queueHasPollers } from '../../stack/services/npanel-processes';
import { startPowerdns } from '../../stack/services/powerdns';
import { startTemporal } from '../../stack/services/temporal';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../../common/task-queues';
import type { LoadedStack } from './stack';
import { stackHome } from '../../stack/state-home';

/**
 * A stack of the fault test's own, started and stopped with the real CLI (`up --detach`, `down`), whose
 * processes the test kills and brings back. The supervisor restarts nothing by itself (an operator or systemd
 * does that in production), so the test is in control of every restart: a new worker is spawned with the
 * same env the stack gives it (`processEnv`), a daemon is started by its own stack service function. Each
 * replacement is written into `pids.json`, so `npanel down` stops it even if the test itself dies.
 */
export interface FaultStack {
  stack: LoadedStack;
  ctx: StackContext;
  /** SIGKILL (a crash) or SIGTERM (a clean stop) of a named process; resolves once it is really gone. */
  kill(name: DaemonName, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts the named process again (worker: polling both queues again). */
  restart(name: DaemonName): Promise<void>;
  pid(name: DaemonName): number;
  down(): Promise<void>;
}

export type DaemonName = 'worker' | 'temporal' | 'mariadb' | 'powerdns';

const execFileP = promisify(execFile);

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await execFileP(process.execPath, [path.join(repoRoot(), 'dist', 'cli', 'main.js'), ...args], { timeout: 240_000 });
  return stdout;
}

export async function startFaultStack(name: string, portBase: number): Promise<FaultStack> {
  const root = repoRoot();
  const home = stackHome(`.npanel-faults-${name}`);
  // A previous run that died before its cleanup: stop what it left, then start from nothing.
  if (readPidFile(home)) await cli('down', '--home', home).catch(() => undefined);
  fs.rmSync(home, { recursive: true, force: true });
  await cli('up', '--detach', '--home', home, '--port-base', String(portBase));

  const ctx = createStackContext({ root, home, portBase, log: pino({ level: 'silent' }) });
  const [nodeA] = hostingNodes(ctx, false);
  const stack: LoadedStack = {
    home,
    file: JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')),
    secrets: JSON.parse(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')),
  };
  /** Processes this test started in place of killed ones (children of the test process). */
  const replaced = new Map<DaemonName, RunningDaemon | ChildProcess>();

  const pids = (): PidFile => readPidFile(home)!;
  const pid = (n: DaemonName) => pids().daemons.find((d) => d.name === n)!.pid;
  const recordPid = (n: DaemonName, newPid: number) => {
    const file = pids();
    file.daemons = file.daemons.map((d) => (d.name === n ? { name: n, pid: newPid } : d));
    fs.writeFileSync(path.join(home, 'pids.json'), JSON.stringify(file, null, 2));
  };

  async function kill(n: DaemonName, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const p = pid(n);
    if (!isAlive(p)) throw new Error(`${n} (${p}) is not running`);
    process.kill(p, signal);
    let left = await waitUntilGone([p], signal === 'SIGKILL' ? 10_000 : 30_000);
    if (left.length) {
      process.kill(p, 'SIGKILL');
      left = await waitUntilGone([p], 10_000);
    }
    if (left.length) throw new Error(`${n} (${p}) survived ${signal}`);
    replaced.delete(n);
  }

  async function startWorker(): Promise<ChildProcess> {
    const env = { ...process.env, ...processEnv(ctx, nodeA!, ['control', 'node']) };
    const out = fs.openSync(path.join(ctx.logDir, 'worker.log'), 'a');
    const child = spawn(process.execPath, [path.join(root, 'dist', 'worker', 'main.js')], { env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const deadline = Date.now() + 60_000;
    // The killed worker's pollers stay listed for a while: wait for pollers of THIS process (the SDK's default
    // identity is `<pid>@<host>`) on both queues.
    const polls = async () =>
      (await queueHasPollers(stack.file.temporal.address, CONTROL_TASK_QUEUE, 'workflow', child.pid!)) &&
      (await queueHasPollers(stack.file.temporal.address, nodeTaskQueue(nodeA!.id), 'activity', child.pid!));
    while (!(await polls().catch(() => false))) {
      if (child.exitCode !== null) throw new Error(`restarted worker exited with ${child.exitCode} (see ${ctx.logDir}/worker.log)`);
      if (Date.now() > deadline) throw new Error('restarted worker did not poll within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    return child;
  }

  async function restart(n: DaemonName): Promise<void> {
    if (isAlive(pid(n))) throw new Error(`${n} is still running`);
    let started: RunningDaemon | ChildProcess;
    if (n === 'worker') started = await startWorker();
    else if (n === 'temporal') started = await startTemporal(ctx, { codecEndpoint: `http://127.0.0.1:${ctx.ports.api}/codec` });
    else if (n === 'mariadb') started = await startMariadb(ctx);
    else started = await startPowerdns(ctx);
    replaced.set(n, started);
    recordPid(n, started.pid!);
  }

  async function down(): Promise<void> {
    // Our replacements first (the worker before the daemons it talks to), then the CLI stops the rest.
    for (const n of ['worker', 'temporal', 'powerdns', 'mariadb'] as DaemonName[]) {
      const p = replaced.get(n);
      if (!p) continue;
      if ('stop' in p && typeof p.stop === 'function') await p.stop().catch(() => undefined);
      else {
        const child = p as ChildProcess;
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          if ((await waitUntilGone([child.pid!], 15_000)).length) child.kill('SIGKILL');
        }
      }
    }
    replaced.clear();
    if (readPidFile(home)) await cli('down', '--home', home);
    fs.rmSync(home, { recursive: true, force: true });
  }

  return { stack, ctx, kill, restart, pid, down };
}
