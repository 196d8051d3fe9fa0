import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { repoRoot } from '../config/load';
import { codecFromConfig } from '../lib/codec';
import { isPortFree, stackPorts } from '../stack/ports';
import { apiClient, nodePaths, strongPassword } from '../test/support/accounts';
import { loadStack, type LoadedStack } from '../test/support/stack';
import { benchPortBase, figure, figureRows, formatTable, machineFacts, median, npanelCli, percentile, writeResults } from './common';
import { cpuDelta, stackCpu } from './cpu';
import { openFloor } from './provision-floor';
import { stepBreakdown, verifyAccount } from './provision-report';
import { stackHome } from '../stack/state-home';

/**
 * Provisioning benchmark (issue 3). On a stack of its own (the real `npanel up --detach`):
 * 1. the floor: the raw operations of one account, each until a real client sees it (bench/provision-floor.ts);
 * 2. one account end to end, N times one after another: POST /api/v1/accounts -> the workflow completed;
 * 3. 50 accounts POSTed at once: time until all completed, and how many times nginx reloaded meanwhile.
 *
 *   node dist/bench/provision.js [--port-base N] [--home DIR] [--accounts N] [--burst N] [--reps N] [--keep]
 *
 * "Completed" is when Temporal closes the workflow, seen through the client's `handle.result()` (a long poll:
 * the server answers the moment the close event is written). Every activity returns only once its service
 * serves the change (the nginx reloader waits for the new config to be served; the others are live at once),
 * so completion is the moment a user's clients can use the account. Polling GET /api/v1/workflows/:id instead
 * would add half a poll interval and, every 10 ms, a progress query that the worker answers on the same 2 cores
 * that run the workflows: it would measure the poller, not provisioning. The API is still the door in (POST),
 * and each account is checked afterwards through the API and with real clients (not timed).
 */

const GOAL_MEDIAN_MS = 400;
const GOAL_BURST_S = 10;
const GOAL_RELOADS = 10;

function parseArgs(argv: string[]) {
  const opts = {
    home: stackHome('.npanel-bench-provision'),
    portBase: undefined as string | undefined,
    accounts: 20,
    burst: 50,
    reps: 7,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--home') opts.home = path.resolve(argv[++i]!);
    else if (a === '--port-base') opts.portBase = argv[++i];
    else if (a === '--accounts') opts.accounts = Number(argv[++i]);
    else if (a === '--burst') opts.burst = Number(argv[++i]);
    else if (a === '--reps') opts.reps = Number(argv[++i]);
    else if (a === '--keep') opts.keep = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return { ...opts, portBase: benchPortBase(opts.portBase, 30900) };
}

function accountBody(tag: string) {
  const username = `b${tag}`;
  return {
    username,
    domain: `${username}.bench.test`,
    mailboxes: [{ local: 'info', password: strongPassword() }],
    ftp: { password: strongPassword() },
    database: { name: `${username}_db`, password: strongPassword() },
    tls: false,
  };
}
export type AccountBody = ReturnType<typeof accountBody>;

/** How many events one provisioning writes, by kind: each costs the Temporal server a write and the worker work. */
async function historySummary(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const byType: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const type =
      Object.keys(e)
        .find((k) => k.endsWith('EventAttributes'))
        ?.replace(/EventAttributes$/, '') ?? 'other';
    byType[type] = (byType[type] ?? 0) + 1;
  }
  return { total: history.events?.length ?? 0, byType };
}

/** Reloads nginx itself logged: the `-s reload` process writes "signal process started" to the -e log. */
function nginxSignals(errorLog: string): number {
  return fs.existsSync(errorLog) ? (fs.readFileSync(errorLog, 'utf8').match(/signal process started/g) ?? []).length : 0;
}

async function workerReloads(stack: LoadedStack): Promise<number | null> {
  const url = stack.file.metrics?.workers?.a;
  if (!url) return null;
  const text = await (await fetch(url)).text();
  const m = /^npanel_nginx_reloads_total\{[^}]*\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

async function runBench(stack: LoadedStack, opts: ReturnType<typeof parseArgs>) {
  const floor = await openFloor(stack, opts.portBase);
  const floorResult = await floor.measure(opts.reps).finally(() => floor.close());
  process.stdout.write(
    `floor: sequential ${floorResult.sequentialMs.toFixed(1)} ms, side by side ${floorResult.parallelMs.toFixed(1)} ms ` +
      `(${Object.entries(floorResult.perServiceMs)
        .map(([s, ms]) => `${s} ${ms.toFixed(1)}`)
        .join(', ')})\n`,
  );

  const connection = await Connection.connect({ address: stack.file.temporal.address });
  const client = new Client({
    connection,
    namespace: stack.file.temporal.namespace,
    dataConverter: { payloadCodecs: [codecFromConfig({ key: stack.secrets.codecKey, keyId: stack.secrets.codecKeyId })] },
  });
  const { api } = apiClient(stack);
  const run = Date.now().toString(36).slice(-5);

  /** POST -> completed, in ms; throws when the workflow did not complete. */
  const provision = async (body: AccountBody) => {
    const sentAt = Date.now();
    const t0 = performance.now();
    const res = await api('POST', '/api/v1/accounts', body);
    if (res.status !== 202) throw new Error(`POST /api/v1/accounts ${body.username}: ${res.status} ${JSON.stringify(res.body)}`);
    const postMs = performance.now() - t0;
    const workflowId = res.body.workflowId as string;
    await client.workflow.getHandle(workflowId).result();
    return { ms: performance.now() - t0, postMs, sentAt, workflowId, body };
  };

  try {
    const cpu0 = stackCpu(stack.home);
    const sequential = [];
    for (let i = 0; i < opts.accounts; i++) sequential.push(await provision(accountBody(`${run}s${i}`)));
    const seqMs = sequential.map((s) => s.ms);
    const cpu1 = stackCpu(stack.home);

    const errorLog = nodePaths(stack, 'a').nginx.errorLog;
    const signalsBefore = nginxSignals(errorLog);
    const metricBefore = await workerReloads(stack);
    const t0 = performance.now();
    const burst = await Promise.all(Array.from({ length: opts.burst }, (_, i) => provision(accountBody(`${run}b${i}`))));
    const burstS = (performance.now() - t0) / 1000;
    const reloads = nginxSignals(errorLog) - signalsBefore;
    const metricAfter = await workerReloads(stack);
    const cpu2 = stackCpu(stack.home);
    const cpu = { sequential: cpuDelta(cpu0, cpu1), burst: cpuDelta(cpu1, cpu2) };

    // Untimed checks: each account is completed in the API, and usable with real clients.
    const breakdown = await stepBreakdown(api, sequential);
    const history = await historySummary(client, sequential[0]!.workflowId);
    const burstBreakdown = await stepBreakdown(api, burst);
    await verifyAccount(stack, api, sequential[0]!);
    await verifyAccount(stack, api, burst[burst.length - 1]!);
    for (const b of burst) await verifyAccount(stack, api, b, 'web-only');

    return {
      floor: floorResult,
      sequentialMs: seqMs,
      breakdown,
      burstBreakdown,
      history,
      cpu,
      burstS,
      burstMs: burst.map((b) => b.ms),
      reloads,
      metricReloads: metricBefore === null || metricAfter === null ? null : metricAfter - metricBefore,
    };
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const ports = stackPorts(opts.portBase);
  for (const p of [ports.api, ports.temporal, ports.mysql, ports.nginxHttp, ports.imap]) {
    if (!(await isPortFree(p))) throw new Error(`port ${p} of base ${opts.portBase} is taken: pick another --port-base`);
  }
  const machine = machineFacts();
  if (fs.existsSync(path.join(opts.home, 'pids.json'))) await npanelCli(['down', '--home', opts.home]);
  fs.rmSync(opts.home, { recursive: true, force: true });
  const up = await npanelCli(['up', '--detach', '--home', opts.home, '--port-base', String(opts.portBase)]);
  if (up.code !== 0) throw new Error(`up failed (exit ${up.code}):\n${up.output}`);
  let r: Awaited<ReturnType<typeof runBench>>;
  try {
    process.env.NPANEL_STACK_DIR = opts.home;
    r = await runBench(loadStack(), opts);
  } catch (err) {
    await npanelCli(['down', '--home', opts.home]);
    throw new Error(`${(err as Error).message}\n(stack stopped; logs kept in ${path.join(opts.home, 'logs')})`);
  }
  await npanelCli(['down', '--home', opts.home]);
  if (!opts.keep) fs.rmSync(opts.home, { recursive: true, force: true });

  const floor = r.floor.parallelMs;
  const med = median(r.sequentialMs);
  const p95 = percentile(r.sequentialMs, 95);
  const figures = [
    figure(
      `one account end to end (POST -> completed), median of ${opts.accounts} [goal: 400 ms and 2x floor]`,
      Math.min(GOAL_MEDIAN_MS, 2 * floor),
      med,
      'ms',
    ),
    figure(`one account end to end, p95 of ${opts.accounts} [goal: 3x floor]`, 3 * floor, p95, 'ms'),
    figure(`${opts.burst} accounts started at once: all completed`, GOAL_BURST_S, r.burstS, 's'),
    figure(`${opts.burst} accounts started at once: nginx reloads`, GOAL_RELOADS, r.reloads, 'reloads'),
  ];
  process.stdout.write('\n' + formatTable(figureRows(figures)));
  process.stdout.write(
    `floor (raw operations until a real client sees each, median of ${r.floor.repetitions}): side by side ${floor.toFixed(1)} ms, ` +
      `one after another ${r.floor.sequentialMs.toFixed(1)} ms; end-to-end median = ${(med / floor).toFixed(2)}x side-by-side floor, ` +
      `${(med / r.floor.sequentialMs).toFixed(2)}x sequential floor\n`,
  );
  process.stdout.write(
    `reloads counted by the worker (npanel_nginx_reloads_total): ${r.metricReloads ?? 'n/a'}; load average before: ${machine.loadAverage.join(' ')} on ${machine.cores} cores\n`,
  );
  process.stdout.write(
    `burst: per-account POST -> completed median ${median(r.burstMs).toFixed(0)} ms, max ${Math.max(...r.burstMs).toFixed(0)} ms\n`,
  );
  process.stdout.write(
    `\nwhere the time of one account goes (medians over ${opts.accounts}, ms after the POST was sent):\n${r.breakdown.text}`,
  );
  const perAccount = (d: Record<string, number>, n: number) =>
    Object.entries(d)
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => `${k} ${(ms / n).toFixed(0)}`)
      .join(', ');
  process.stdout.write(
    `\nhistory of one provisioning: ${r.history.total} events (${Object.entries(r.history.byType)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')})\n`,
  );
  process.stdout.write(`\nCPU ms per account, one at a time: ${perAccount(r.cpu.sequential, opts.accounts)}\n`);
  process.stdout.write(`CPU ms per account, ${opts.burst} at once: ${perAccount(r.cpu.burst, opts.burst)}\n`);
  process.stdout.write(
    `\nthe same for the ${opts.burst} accounts started at once (medians, ms after each POST was sent):\n${r.burstBreakdown.text}`,
  );
  const out = writeResults('provision', figures, {
    floor: r.floor,
    sequentialMs: r.sequentialMs,
    burstMs: r.burstMs,
    burstS: r.burstS,
    reloads: r.reloads,
    metricReloads: r.metricReloads,
    breakdown: r.breakdown.medians,
    burstBreakdown: r.burstBreakdown.medians,
    cpuMs: r.cpu,
    history: r.history,
    loadAverageBefore: machine.loadAverage,
  });
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out)}\n`);
  if (!figures.every((f) => f.ok)) process.exitCode = 1;
}

main().catch((err: Error) => {
  process.stderr.write(`bench provision: ${err.message}\n`);
  process.exit(1);
});
