import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './wait';

export interface DaemonSpec {
  /** Short name: log file `<logDir>/<name>.log` and the name in errors and `status`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logDir: string;
  /** Resolves true once the daemon really serves (a client call, not just an open port). */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** How to ask it to stop; default SIGTERM. PowerDNS, for one, prefers its control socket. */
  stop?: (child: ChildProcess) => Promise<void> | void;
  stopTimeoutMs?: number;
}

export interface RunningDaemon {
  name: string;
  pid: number;
  child: ChildProcess;
  ready: () => Promise<boolean>;
  stop: () => Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Starts a daemon in the foreground (no self-daemonising: we keep its PID and wait on it), sends its output
 * to its own log file and waits until `ready` says yes. If it dies first, the error carries its last log lines.
 */
export async function startDaemon(spec: DaemonSpec): Promise<RunningDaemon> {
  fs.mkdirSync(spec.logDir, { recursive: true });
  const logFile = path.join(spec.logDir, `${spec.name}.log`);
  const out = fs.openSync(logFile, 'a');
  fs.writeSync(out, `\n--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);

  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve(exitCode);
    });
    child.once('error', () => {
      exitCode = -1;
      resolve(-1);
    });
  });

  const stop = async () => {
    if (exitCode !== undefined) return;
    if (spec.stop) await spec.stop(child);
    else child.kill('SIGTERM');
    const timeout = spec.stopTimeoutMs ?? 10_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitFor(
      spec.name,
      async () => {
        if (exitCode !== undefined) throw new Error(`exited with ${exitCode}\n${tail(logFile)}`);
        return spec.ready();
      },
      spec.readyTimeoutMs ?? 20_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`${spec.name} failed to start: ${(err as Error).message}\n(see ${logFile})`);
  }
  return { name: spec.name, pid: child.pid!, child, ready: spec.ready, stop, exited };
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
