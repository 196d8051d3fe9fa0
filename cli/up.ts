import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { repoRoot } from '../config/load';
import { createStackContext } from '../stack/context';
import { assertStackPortsFree, startStack } from '../stack/stack';
import { isAlive, pidFilePath, readPidFile } from './pids';
import { clusterPortsProblem } from '../stack/ports';
import { ensureGoTools } from '../stack/services/go-tools';
import type { TemporalMode } from '../stack/temporal-target';

export interface UpOptions {
  home: string;
  portBase: number;
  detach: boolean;
  withNodeB: boolean;
  temporalMode: TemporalMode;
}

/** Set for the background process of `up --detach`: its output goes to a log file, where no token belongs. */
const DETACHED_CHILD = 'NPANEL_UP_DETACHED_CHILD';

function printSummary(home: string): void {
  const stack = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8'));
  const tokenFile = path.join(home, 'admin-token');
  const token = process.env[DETACHED_CHILD] ? `(in ${tokenFile})` : fs.readFileSync(tokenFile, 'utf8').trim();
  process.stdout.write(
    [
      `NPanel is up (state in ${home})`,
      `  UI and API:    ${stack.api}/`,
      `  Temporal Web:  ${stack.temporal.ui}`,
      ...(stack.temporal.tls
        ? [
            `  Temporal:      ${stack.temporal.address} (cluster, mTLS: temporal --tls-ca-path ${stack.temporal.tls.ca} --tls-cert-path ${stack.temporal.tls.cert} --tls-key-path ${stack.temporal.tls.key})`,
          ]
        : []),
      `  admin token:   ${token}`,
      `  endpoints:     ${path.join(home, 'stack.json')}`,
      `  logs:          ${stack.logs}`,
      '',
    ].join('\n'),
  );
}

function refuseIfRunning(home: string): void {
  const pids = readPidFile(home);
  if (pids && isAlive(pids.supervisor)) {
    throw new Error(`a stack is already running from ${home} (pid ${pids.supervisor}); stop it with 'bin/npanel down'`);
  }
}

/** `up --detach`: the same command in a background process; we return once it reports ready (or died). */
async function upDetached(opts: UpOptions): Promise<void> {
  // Check ports here too, so a busy port is one clear line from this process, not a relayed log tail.
  const probe = createStackContext({
    root: repoRoot(),
    home: opts.home,
    portBase: opts.portBase,
    log: pino({ level: 'silent' }),
    temporalMode: opts.temporalMode,
  });
  await assertStackPortsFree(probe, opts.withNodeB);
  // A first cluster start builds Temporal's binaries (minutes): here, before the wait for readiness begins.
  if (opts.temporalMode === 'cluster') await ensureGoTools((line) => process.stderr.write(`npanel: ${line}\n`));
  fs.mkdirSync(path.join(opts.home, 'logs'), { recursive: true });
  const logFile = path.join(opts.home, 'logs', 'npanel-up.log');
  const out = fs.openSync(logFile, 'a', 0o600);
  fs.chmodSync(logFile, 0o600); // an older log may have been made readable; it can hold paths and errors
  const args = [process.argv[1]!, 'up', '--home', opts.home, '--port-base', String(opts.portBase)];
  if (opts.withNodeB) args.push('--with-node-b');
  if (opts.temporalMode !== 'dev') args.push('--temporal', opts.temporalMode);
  const readyMarker = path.join(opts.home, 'up.ready');
  fs.rmSync(readyMarker, { force: true });
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, [DETACHED_CHILD]: '1' },
  });
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 180_000;
  while (!fs.existsSync(readyMarker)) {
    if (exited || Date.now() > deadline) {
      const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
      throw new Error(`the stack did not come up:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  printSummary(opts.home);
}

export async function up(opts: UpOptions): Promise<void> {
  refuseIfRunning(opts.home);
  const portsProblem = opts.temporalMode === 'cluster' ? clusterPortsProblem(opts.portBase) : null;
  if (portsProblem) throw new Error(portsProblem);
  if (opts.detach) return upDetached(opts);

  const started = performance.now();
  const log = pino({ level: process.env.NPANEL_LOG_LEVEL ?? 'info', base: { service: 'npanel-up' } }, pino.destination(2));
  const ctx = createStackContext({ root: repoRoot(), home: opts.home, portBase: opts.portBase, log, temporalMode: opts.temporalMode });
  const stack = await startStack(ctx, { withNodeB: opts.withNodeB, withApp: true });
  fs.writeFileSync(
    pidFilePath(opts.home),
    JSON.stringify({ supervisor: process.pid, daemons: stack.daemons.map((d) => ({ name: d.name, pid: d.pid })) }, null, 2),
  );
  const readyMs = Math.round(performance.now() - started);
  fs.writeFileSync(path.join(opts.home, 'up.ready'), JSON.stringify({ readyMs }) + '\n');
  printSummary(opts.home);
  process.stdout.write(`  ready in ${(readyMs / 1000).toFixed(1)} s. Ctrl-C stops everything.\n`);

  // A daemon that dies while we run is reported; the rest keep running so the operator can look around.
  for (const d of stack.daemons) void d.exited.then((code) => stopping || log.error({ daemon: d.name, code }, 'daemon exited'));
  let stopping = false;
  await new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping the stack');
      await stack.stop();
      fs.rmSync(pidFilePath(opts.home), { force: true });
      fs.rmSync(path.join(opts.home, 'up.ready'), { force: true });
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
