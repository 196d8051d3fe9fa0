import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createCertificateInventoryActivities } from '../activities/acme-inventory';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../common/task-queues';
import { createDb } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { createRepositories } from '../db/repositories';
import type { StackFile } from '../stack/stack-file';
import type { StackSecrets } from '../stack/context';
import { WORKFLOW_BUNDLE_PATH } from '../worker/bundle';
import type { SweepTotals } from '../workflows/certificate-renewal-sweep';
import { startDevServer } from '../test/support/temporal-dev-server';
import { figure, figureRows, formatTable, writeResults, type Figure } from './common';

/**
 * Sweep planning over 10,000 certificate records: the real certificateRenewalSweep workflow (and real
 * renewCertificate children) on a private Temporal dev server, the real `listDueCertificates` paging over a
 * MariaDB table of 10,000 rows (a scratch database on a running stack's MariaDB), and instant mocked
 * ACME/nginx activities — so the figures are the sweep's own cost: selecting the due rows and starting their
 * renewals (pacing off: pacing is a deliberate wait, not planning cost).
 *
 *   node dist/bench/renewal-sweep.js --stack /work/<stack home> [--backlog N] [--order-ms MS]
 *
 * NPANEL_BENCH_TIMELINE=1 also prints, per scenario, when the sweep issued its child starts and when the server
 * recorded them started (the split that showed the server, not the planning, was the slow part).
 * `--order-ms` makes each mocked order take that long (a real HTTP-01 order through nginx against Pebble:
 * ~0.7 s); the default 0 is the harder case for planning, every renewal competing with the starts.
 *
 * Scenario "steady": 1/60 of the fleet due (90-day certificates renewed at 30 days left = one day's share).
 * Scenario "backlog": N due (default 1,000, e.g. after a CA outage) to show continue-as-new bounds history.
 * Prints a table and writes bench/results/renewal-sweep.json ({ figures: [{ name, goal, measured, unit, ratio, ok }] }).
 */

const RECORDS = 10_000;
const GOAL_PLANNING_S = 5;
const GOAL_EVENTS = 4_000;
const MAX_CONCURRENT = 5;
const DB = 'npanel_bench_sweep';

function parseArgs(argv: string[]) {
  const opts = { stack: '', backlog: 1000, orderMs: 0 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--stack') opts.stack = path.resolve(argv[++i]!);
    else if (argv[i] === '--backlog') opts.backlog = Number(argv[++i]);
    else if (argv[i] === '--order-ms') opts.orderMs = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!opts.stack) throw new Error('--stack <home of a running stack> is required (its MariaDB holds the scratch table)');
  return opts;
}

async function seed(pool: mysql.Pool, due: number): Promise<void> {
  await pool.query('DELETE FROM certificates');
  const now = Date.now();
  const day = 86_400_000;
  for (let start = 0; start < RECORDS; start += 1000) {
    const rows = [];
    for (let i = start; i < start + 1000; i++) {
      // The first `due` rows expire within 30 days; the rest between 31 and 90 days from now.
      const notAfter = new Date(i < due ? now + (1 + (i % 28)) * day : now + (31 + (i % 59)) * day);
      rows.push([`site${i}.bench.test`, 'ABCDEF', 'CN=bench', new Date(notAfter.getTime() - 90 * day), notAfter, 'issued']);
    }
    await pool.query('INSERT INTO certificates (domain, serial, issuer, not_before, not_after, last_outcome) VALUES ?', [rows]);
  }
}

const seconds = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;

/** Seconds from the workflow's start to its last child workflow started, from the history's own timestamps. */
async function startedAllSeconds(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const t0 = seconds(events[0]?.eventTime);
  const starts = events.filter((e) => e.childWorkflowExecutionStartedEventAttributes).map((e) => seconds(e.eventTime));
  if (starts.length === 0) throw new Error(`${workflowId}: no child workflow started`);
  if (process.env.NPANEL_BENCH_TIMELINE) {
    const at = (f: (e: (typeof events)[number]) => unknown) => events.filter(f).map((e) => +(seconds(e.eventTime) - t0).toFixed(2));
    const initiated = at((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    const wfts = at((e) => e.workflowTaskCompletedEventAttributes);
    const lists = at((e) => e.activityTaskCompletedEventAttributes);
    console.log(
      `${workflowId}: initiated ${initiated.length} at ${initiated[0]}..${initiated.at(-1)} s; started ${starts.length} at ${(starts[0]! - t0).toFixed(2)}..${(Math.max(...starts) - t0).toFixed(2)} s; workflow tasks ${wfts.length} (${wfts.slice(0, 12).join(' ')} ...); activities done at ${lists.join(' ')}`,
    );
  }
  return Math.max(...starts) - t0;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const file = JSON.parse(fs.readFileSync(path.join(opts.stack, 'stack.json'), 'utf8')) as StackFile;
  const secrets = JSON.parse(fs.readFileSync(path.join(opts.stack, 'secrets.json'), 'utf8')) as StackSecrets;
  const admin = { host: file.mysql.host, port: file.mysql.port, user: 'npanel_admin', password: secrets.mysqlAdminPassword };
  const bootstrap = await mysql.createConnection(admin);
  await bootstrap.query(`CREATE DATABASE IF NOT EXISTS ${DB}`);
  await bootstrap.end();
  const handle = createDb({ ...admin, database: DB });
  await applyMigrations(handle.db);
  const inventory = createCertificateInventoryActivities(createRepositories(handle.db));

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer();
  const native = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  const rowsOut: string[] = [];
  try {
    // steady: the window does not bind (maxConcurrent 200 > the 167 due), so start-all is the sweep's own
    // planning cost; backlog: the configured window (5), where start-all is bounded by the renewals themselves.
    for (const [scenario, due, window] of [
      ['steady', Math.round(RECORDS / 60), 200],
      ['backlog', opts.backlog, MAX_CONCURRENT],
    ] as const) {
      await seed(handle.pool, due);
      let lastStart = 0;
      const control = {
        listDueCertificates: inventory.listDueCertificates,
        async certificateTarget({ domain }: { domain: string }) {
          lastStart = Date.now();
          return { domain, account: 'bench', accountId: 1, node: 'a' };
        },
        async recordCertificateIssued() {
          return { outcome: 'renewed' };
        },
        async recordCertificateFailure() {},
        async appendAudit() {},
      };
      const nodeActs = {
        async orderCertificate({ domain }: { domain: string }) {
          await new Promise((r) => setTimeout(r, opts.orderMs));
          return {
            serial: 'AB',
            issuer: 'CN=bench',
            notBefore: new Date().toISOString(),
            notAfter: new Date().toISOString(),
            certPath: `/c/${domain}/AB/cert.pem`,
            keyPath: `/c/${domain}/AB/key.pem`,
            workflowId: 'x',
            served: null,
          };
        },
        async installCertificate() {
          return { changed: true };
        },
        async probeServedCertificate() {
          return { serial: 'AB', issuer: 'CN=bench', notAfter: new Date().toISOString() };
        },
        async restoreCertificate() {},
        async discardCertificate() {
          return true;
        },
        async pruneCertificates() {
          return 0;
        },
      };
      const sinks = { metrics: { workflowStarted: { fn() {} }, workflowClosed: { fn() {} } } };
      const w1 = await Worker.create({
        connection: native,
        taskQueue: CONTROL_TASK_QUEUE,
        workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
        activities: control,
        sinks: sinks as never,
        maxConcurrentWorkflowTaskExecutions: 100,
      });
      const w2 = await Worker.create({ connection: native, taskQueue: nodeTaskQueue('a'), activities: nodeActs });
      const id = `bench-sweep-${scenario}-${Date.now()}`;
      const started = Date.now();
      const run = client.workflow.execute('certificateRenewalSweep', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId: id,
        args: [{ maxConcurrent: window, paceMs: 0 }],
      }) as Promise<SweepTotals>;
      await Promise.all([w1.runUntil(run), w2.runUntil(run)]);
      const totals = await run;
      // Planning = from the sweep's start to the start of its last renewal, both as the server recorded them in
      // the sweep's history (its first run: steady fits in one). The first activity of the last renewal (when
      // its work began on a worker) is printed beside it.
      const planningS = await startedAllSeconds(client, id);
      const firstWorkS = (lastStart - started) / 1000;
      const totalS = (Date.now() - started) / 1000;
      // Visibility fills historyLength in a moment after close: read until every run of the chain has it.
      let lengths: number[] = [];
      for (let tries = 0; tries < 50; tries++) {
        lengths = [];
        for await (const wf of client.workflow.list({ query: `WorkflowId = '${id}'` })) lengths.push(wf.historyLength);
        if (lengths.length === totals.runs && lengths.every((n) => n > 0)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (!lengths.every((n) => n > 0)) throw new Error(`${scenario}: history lengths not visible: ${lengths.join(', ')}`);
      const maxEvents = Math.max(...lengths);
      if (totals.due !== due || totals.renewed !== due)
        throw new Error(`${scenario}: expected ${due} renewals, got ${JSON.stringify(totals)}`);
      rowsOut.push(
        `${scenario.padEnd(8)} window ${String(window).padStart(3)}  due ${String(due).padStart(5)}  start-all${totals.runs > 1 ? ' (run 1)' : ''} ${planningS.toFixed(2).padStart(7)} s  last renewal at work ${firstWorkS.toFixed(2).padStart(7)} s  sweep ${totalS.toFixed(2).padStart(7)} s  runs ${totals.runs}  events/run max ${maxEvents} (${lengths.join(', ')})  maxInFlight ${totals.maxInFlight}`,
      );
      if (scenario === 'steady') {
        figures.push(figure(`sweep planning over ${RECORDS} records: select + start the ${due} due`, GOAL_PLANNING_S, planningS, 's'));
      }
      figures.push(
        figure(
          `history events per run, max (${scenario}: ${due} due of ${RECORDS}, ${totals.runs} run(s))`,
          GOAL_EVENTS,
          maxEvents,
          'events',
        ),
      );
      details[scenario] = {
        due,
        window,
        startAllS: planningS,
        lastRenewalAtWorkS: firstWorkS,
        sweepS: totalS,
        runs: totals.runs,
        eventsPerRun: lengths,
        maxInFlight: totals.maxInFlight,
      };
    }
  } finally {
    await connection.close();
    await native.close();
    await server.stop();
    const cleanup = await mysql.createConnection(admin);
    await cleanup.query(`DROP DATABASE IF EXISTS ${DB}`);
    await cleanup.end();
    await handle.close();
  }
  for (const r of rowsOut) console.log(r);
  process.stdout.write('\n' + formatTable(figureRows(figures)));
  const out = writeResults('renewal-sweep', figures, details);
  console.log(`\nwritten ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
