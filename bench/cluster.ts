import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { codecFromConfig } from '../lib/codec';
import { temporalTlsOptions } from '../lib/temporal-tls';
import { ensureGoTools, goToolsCacheRoot } from '../stack/services/go-tools';
import { stackHome } from '../stack/state-home';
import { apiClient, strongPassword } from '../test/support/accounts';
import { loadStackAt, type LoadedStack } from '../test/support/stack';
import { benchPortBase, figure, figureRows, formatTable, median, npanelCli, percentile, writeResults } from './common';

/**
 * The production path's figures (issue 13), side by side in one run:
 * 1. how long `npanel up --temporal cluster --detach` takes until the stack is ready, its binaries cached;
 * 2. the same for the dev server (`npanel up --detach`), for scale;
 * 3. provisioning one full account (mailbox, FTP, database) POST -> completed, N times on each stack, the two
 *    stacks taking turns so that the machine's noise falls on both alike;
 * 4. with `--cold-build`, the binaries built from the Go module proxy into an empty cache (a fresh machine:
 *    5-9 minutes on 2 cores; off by default because it costs that every run).
 *
 *   node dist/bench/cluster.js [--port-base N] [--cluster-port-base N] [--accounts N] [--cold-build]
 *
 * The cluster stack takes its own port base (default: the dev one + 1500, beyond the bases `npanel bench` hands
 * to the other scripts): both stacks run at once.
 */

const GOAL_READY_S = 30;
const GOAL_COLD_BUILD_S = 9 * 60;
/** The cluster adds a network hop with TLS and PostgreSQL writes: within 1.5x the dev server's SQLite is the goal. */
const GOAL_RATIO = 1.5;

function parseArgs(argv: string[]) {
  const opts = {
    portBase: undefined as string | undefined,
    clusterPortBase: undefined as number | undefined,
    accounts: 9,
    coldBuild: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port-base') opts.portBase = argv[++i];
    else if (a === '--cluster-port-base') opts.clusterPortBase = Number(argv[++i]);
    else if (a === '--accounts') opts.accounts = Number(argv[++i]);
    else if (a === '--cold-build') opts.coldBuild = true;
    else throw new Error(`unknown argument ${a}`);
  }
  const portBase = benchPortBase(opts.portBase, 30700);
  return { ...opts, portBase, clusterPortBase: benchPortBase(String(opts.clusterPortBase ?? portBase + 1500), portBase + 1500) };
}

interface RunningStack {
  mode: 'dev' | 'cluster';
  home: string;
  readyS: number;
  stack: LoadedStack;
  client: Client;
  connection: Connection;
}

async function up(mode: 'dev' | 'cluster', portBase: number, env: NodeJS.ProcessEnv = {}): Promise<RunningStack> {
  const home = stackHome(`.npanel-bench-${mode}`);
  if (fs.existsSync(path.join(home, 'pids.json'))) await npanelCli(['down', '--home', home]);
  fs.rmSync(home, { recursive: true, force: true });
  const args = [
    'up',
    '--detach',
    '--home',
    home,
    '--port-base',
    String(portBase),
    ...(mode === 'cluster' ? ['--temporal', 'cluster'] : []),
  ];
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const t0 = performance.now();
  const res = await npanelCli(args).finally(() => {
    process.env = saved;
  });
  const readyS = (performance.now() - t0) / 1000;
  if (res.code !== 0) throw new Error(`npanel ${args.join(' ')} failed (exit ${res.code}):\n${res.output.slice(-4000)}`);
  const stack = loadStackAt(home);
  const t = stack.file.temporal.tls;
  const connection = await Connection.connect({
    address: stack.file.temporal.address,
    // The frontend's certificate names localhost, the address is 127.0.0.1 (as the worker and API connect).
    tls: temporalTlsOptions(t ? { caFile: t.ca, certFile: t.cert, keyFile: t.key, serverName: 'localhost' } : undefined),
  });
  const client = new Client({
    connection,
    namespace: stack.file.temporal.namespace,
    dataConverter: { payloadCodecs: [codecFromConfig({ key: stack.secrets.codecKey, keyId: stack.secrets.codecKeyId })] },
  });
  return { mode, home, readyS, stack, client, connection };
}

async function down(s: RunningStack): Promise<void> {
  await s.connection.close().catch(() => undefined);
  await npanelCli(['down', '--home', s.home]);
  fs.rmSync(s.home, { recursive: true, force: true });
}

/** POST -> the workflow closed as completed, in ms (Temporal's long poll on the result, as bench/provision does). */
async function provisionOnce(s: RunningStack, tag: string): Promise<number> {
  const { api } = apiClient(s.stack);
  const username = `c${tag}`;
  const body = {
    username,
    domain: `${username}.bench.test`,
    mailboxes: [{ local: 'info', password: strongPassword() }],
    ftp: { password: strongPassword() },
    database: { name: `${username}_db`, password: strongPassword() },
    tls: false,
  };
  const t0 = performance.now();
  const res = await api('POST', '/api/v1/accounts', body);
  if (res.status !== 202) throw new Error(`${s.mode}: POST /api/v1/accounts ${res.status} ${JSON.stringify(res.body)}`);
  await s.client.workflow.getHandle(res.body.workflowId as string).result();
  return performance.now() - t0;
}

/**
 * Builds the pinned binaries into an empty cache (modules and toolchain from the Go module proxy, as on a fresh
 * machine) and times it; the cache is removed afterwards.
 */
async function coldBuildSeconds(): Promise<number> {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-bench-go-tools-'));
  const saved = process.env.NPANEL_GO_TOOLS_CACHE;
  process.env.NPANEL_GO_TOOLS_CACHE = cache;
  try {
    const t0 = performance.now();
    await ensureGoTools((line) => process.stdout.write(`${line}\n`));
    return (performance.now() - t0) / 1000;
  } finally {
    if (saved === undefined) delete process.env.NPANEL_GO_TOOLS_CACHE;
    else process.env.NPANEL_GO_TOOLS_CACHE = saved;
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const figures = [];
  let coldS: number | null = null;
  if (opts.coldBuild) coldS = await coldBuildSeconds();

  const cluster = await up('cluster', opts.clusterPortBase);
  let dev: RunningStack | null = null;
  try {
    dev = await up('dev', opts.portBase);
    const run = Date.now().toString(36).slice(-4);
    // One warm-up each (first connections, first nginx reload), not counted.
    await provisionOnce(dev, `${run}dw`);
    await provisionOnce(cluster, `${run}cw`);
    const devMs: number[] = [];
    const clusterMs: number[] = [];
    for (let i = 0; i < opts.accounts; i++) {
      devMs.push(await provisionOnce(dev, `${run}d${i}`));
      clusterMs.push(await provisionOnce(cluster, `${run}c${i}`));
    }
    const devMedian = median(devMs);
    const clusterMedian = median(clusterMs);
    figures.push(
      figure('cluster stack ready (`up --temporal cluster --detach`, binaries cached)', GOAL_READY_S, cluster.readyS, 's'),
      figure('dev stack ready (`up --detach`), same run', GOAL_READY_S, dev.readyS, 's'),
      figure(`provisioning median of ${opts.accounts}, cluster / dev server`, GOAL_RATIO, clusterMedian / devMedian, 'x'),
      figure(
        `provisioning p95 of ${opts.accounts}, cluster / dev server`,
        GOAL_RATIO,
        percentile(clusterMs, 95) / percentile(devMs, 95),
        'x',
      ),
    );
    if (coldS !== null) figures.push(figure('cluster binaries built from the Go module proxy, empty cache', GOAL_COLD_BUILD_S, coldS, 's'));
    process.stdout.write('\n' + formatTable(figureRows(figures)));
    process.stdout.write(
      `side by side: median dev ${devMedian.toFixed(0)} ms, cluster ${clusterMedian.toFixed(0)} ms (dev ${devMs.map((m) => m.toFixed(0)).join(' ')}; ` +
        `cluster ${clusterMs.map((m) => m.toFixed(0)).join(' ')} ms)\n` +
        (coldS === null ? `cold build not run (pass --cold-build; cache: ${goToolsCacheRoot()})\n` : ''),
    );
    writeResults('cluster', figures, { devMs, clusterMs, readyS: { dev: dev.readyS, cluster: cluster.readyS }, coldBuildS: coldS });
  } finally {
    if (dev) await down(dev);
    await down(cluster);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
