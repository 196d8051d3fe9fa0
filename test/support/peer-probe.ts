import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMigrationActivities } from '../../activities/migration';
import type { SshTarget } from '../../activities/ssh-connect';
import { runAsActivity } from './activity-context';

/**
 * A migration activity run in a process of its own, against a peer the test controls: the process either
 * reports how the activity ended and is still alive `lingerMs` later (late 'error' events from a dead
 * connection come after the rejection), or it crashed, which the parent sees as a non-zero exit and the
 * "Unhandled 'error' event" on stderr. This is the worker's situation: one activity must never end the process.
 */

export interface ProbeRequest {
  activity: 'migrationPreflight' | 'migrationSyncFiles';
  source: SshTarget;
  docroot: string;
  /** migrationSyncFiles: the target folder (made under a private web root). */
  localDir?: string;
  attempt?: number;
  lingerMs?: number;
}

export interface ProbeOutcome {
  ok: boolean;
  ms: number;
  value?: unknown;
  error?: { message: string; type: string | null; nonRetryable: boolean };
}

export interface ProbeRun {
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  outcome: ProbeOutcome | null;
}

const MARK = 'PROBE-OUTCOME ';

async function main(req: ProbeRequest): Promise<void> {
  const webRoot = req.localDir ? path.dirname(req.localDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-peers-probe-'));
  const acts = createMigrationActivities({
    webRoot,
    web: { uid: process.getuid!(), gid: process.getgid!() },
    vmail: { dir: webRoot, uid: process.getuid!(), gid: process.getgid!() },
    mysqlAdmin: { host: '127.0.0.1', port: 1, user: 'unused', password: 'unused' },
    nginx: { listenIp: '127.0.0.1', httpPort: 1 },
  });
  const started = performance.now();
  let outcome: ProbeOutcome;
  try {
    const run =
      req.activity === 'migrationPreflight'
        ? () => acts.migrationPreflight({ source: req.source, docroot: req.docroot, databases: [] })
        : () => acts.migrationSyncFiles({ source: req.source, sourceDocroot: req.docroot, docroot: req.localDir!, pass: 'initial' });
    const { value } = await runAsActivity<unknown>(run, { attempt: req.attempt });
    outcome = { ok: true, ms: performance.now() - started, value };
  } catch (err) {
    const e = err as Error & { type?: string; nonRetryable?: boolean };
    outcome = {
      ok: false,
      ms: performance.now() - started,
      error: { message: e.message, type: e.type ?? null, nonRetryable: e.nonRetryable === true },
    };
  }
  await new Promise((r) => setTimeout(r, req.lingerMs ?? 1500));
  process.stdout.write(`${MARK}${JSON.stringify(outcome)}\n`);
  if (!req.localDir) fs.rmSync(webRoot, { recursive: true, force: true });
}

/** Runs the probe in a child process (this file's compiled form) and returns how it ended. */
export function runProbe(req: ProbeRequest, timeoutMs = 90_000): Promise<ProbeRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [__filename, JSON.stringify(req)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-8000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(MARK));
      resolve({ exitCode, signal, stderr, outcome: line ? (JSON.parse(line.slice(MARK.length)) as ProbeOutcome) : null });
    });
  });
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]!) as ProbeRequest).catch((err) => {
    process.stderr.write(`probe failed: ${(err as Error).stack}\n`);
    process.exit(3);
  });
}
