import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import autocannon from 'autocannon';
import { repoRoot } from '../config/load';
import { codecFromConfig } from '../lib/codec';
import { startAttributes } from '../common/search-attribute-keys';
import type { StackSecrets } from '../stack/context';
import type { StackFile } from '../stack/stack-file';
import { stackHome } from '../stack/state-home';
import { CONTROL_TASK_QUEUE } from '../common/task-queues';

/**
 * API benchmark: with 1,000 workflows in history, `GET /api/v1/workflows` (first page, 50 rows) at a steady
 * 200 requests/s for 20 s (autocannon, 10 connections); the figure is the p99 latency. Run after `npm run build`:
 *
 *   node dist/bench/api.js [--home DIR] [--port-base N] [--reuse] [--keep]
 *
 * Without --reuse it starts its own stack (`up --detach`) in DIR and stops it afterwards (unless --keep).
 * Prints the figure and writes bench/results/api.json ({ figures: [{ name, goal, measured, unit, ratio, ok }] }).
 */

const GOAL_P99_MS = 25;
const HISTORY = 1000;
const RATE = 200;
const DURATION_S = 20;
const execFileP = promisify(execFile);

function parseArgs(argv: string[]) {
  const opts = { home: stackHome('.npanel-bench-api'), portBase: 30800, reuse: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--home') opts.home = path.resolve(argv[++i]!);
    else if (a === '--port-base') opts.portBase = Number(argv[++i]);
    else if (a === '--reuse') opts.reuse = true;
    else if (a === '--keep') opts.keep = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const npanel = (args: string[]) =>
  execFileP(process.execPath, [path.join(repoRoot(), 'dist', 'cli', 'main.js'), ...args], { maxBuffer: 1 << 24 });

/** Completed waitForTimer runs (0 ms timers) until the namespace holds at least HISTORY workflows. */
async function fillHistory(stack: StackFile, secrets: StackSecrets): Promise<number> {
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({
      connection,
      namespace: stack.temporal.namespace,
      dataConverter: { payloadCodecs: [codecFromConfig({ key: secrets.codecKey, keyId: secrets.codecKeyId })] },
    });
    const have = (await client.workflow.count()).count;
    const missing = Math.max(0, HISTORY - have);
    let next = 0;
    const worker = async () => {
      while (next < missing) {
        const i = next++;
        const handle = await client.workflow.start('waitForTimer', {
          taskQueue: CONTROL_TASK_QUEUE,
          workflowId: `timer-bench-${Date.now().toString(36)}-${i}`,
          args: [{ ms: 0, label: `bench ${i}` }],
          typedSearchAttributes: startAttributes({ account: `bench${i % 20}`, domain: `bench${i % 20}.test`, node: stack.node.id }),
        });
        await handle.result();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return (await client.workflow.count()).count;
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.reuse) {
    process.stdout.write(`starting a stack in ${opts.home} (port base ${opts.portBase})\n`);
    await npanel(['up', '--detach', '--home', opts.home, '--port-base', String(opts.portBase)]);
  }
  try {
    const stack = JSON.parse(fs.readFileSync(path.join(opts.home, 'stack.json'), 'utf8')) as StackFile;
    const secrets = JSON.parse(fs.readFileSync(path.join(opts.home, 'secrets.json'), 'utf8')) as StackSecrets;
    const token = fs.readFileSync(path.join(opts.home, 'admin-token'), 'utf8').trim();
    const total = await fillHistory(stack, secrets);
    process.stdout.write(`workflows in history: ${total}\n`);
    const url = `${stack.api}/api/v1/workflows`;
    const headers = { authorization: `Bearer ${token}` };
    // Warm-up at the measured rate for 5 s, discarded: connections, the JIT, Temporal's visibility caches, and
    // the stack settling after the history fill (a server is measured warm, not in its first seconds).
    await autocannon({ url, headers, connections: 10, overallRate: RATE, duration: 5 });
    const result = await autocannon({ url, headers, connections: 10, overallRate: RATE, duration: DURATION_S });
    const p99 = result.latency.p99;
    const non2xx = result.non2xx + result.errors + result.timeouts;
    const figures = [
      {
        name: `GET /api/v1/workflows p99 at ${RATE} req/s, ${total} workflows in history`,
        goal: GOAL_P99_MS,
        measured: p99,
        unit: 'ms',
        ratio: Number((p99 / GOAL_P99_MS).toFixed(3)),
        ok: p99 <= GOAL_P99_MS && non2xx === 0,
      },
    ];
    const details = {
      measuredAt: new Date().toISOString(),
      rate: RATE,
      durationS: DURATION_S,
      requests: result.requests.total,
      achievedRate: result.requests.average,
      latencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
        mean: result.latency.mean,
      },
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      workflowsInHistory: total,
    };
    fs.mkdirSync(path.join(repoRoot(), 'bench', 'results'), { recursive: true });
    fs.writeFileSync(path.join(repoRoot(), 'bench', 'results', 'api.json'), JSON.stringify({ figures, details }, null, 2) + '\n');
    process.stdout.write(
      `GET /api/v1/workflows at ${RATE} req/s (${result.requests.total} requests, ${non2xx} not 2xx): ` +
        `p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p99 ${p99} ms (goal <= ${GOAL_P99_MS} ms) ${figures[0]!.ok ? 'OK' : 'MISSED'}\n`,
    );
  } finally {
    if (!opts.reuse && !opts.keep) await npanel(['down', '--home', opts.home]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
