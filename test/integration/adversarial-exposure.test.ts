import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { repoRoot } from '../../config/load';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { workflowIds } from '../../common/workflow-ids';
import { adminToken, apiCall, createToken, until } from '../support/http';
import { loadStack } from '../support/stack';

/**
 * Issue 11, findings 8 and 9: what is exposed beyond the API's own routes. Here: a client that reaches the
 * Temporal frontend but lacks the codec key (finding 8's `deprovisionAccount` with a plaintext input).
 */

const stack = loadStack();
const base = stack.file.api;
const admin = adminToken(stack);
const tag = crypto.randomBytes(3).toString('hex');
let connection: Connection;
let keyless: Client;

before(async () => {
  connection = await Connection.connect({ address: stack.file.temporal.address });
  // A real Temporal client as an attacker has it: the address and namespace, no payload codec.
  keyless = new Client({ connection, namespace: stack.file.temporal.namespace });
});
after(async () => connection?.close());

async function provision(username: string): Promise<void> {
  const res = await apiCall(base, '/api/v1/accounts', { method: 'POST', token: admin, body: { username, domain: `${username}.test` } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  await until(
    `${username} provisioned`,
    async () => {
      const wf = await apiCall(base, `/api/v1/workflows/${res.body.workflowId}`, { token: admin });
      if (wf.body.status === 'failed') throw new Error(JSON.stringify(wf.body));
      return wf.body.status === 'completed' ? true : undefined;
    },
    90_000,
  );
}

async function activitiesScheduled(workflowId: string): Promise<string[]> {
  const history = await keyless.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? '?'] : [],
  );
}

test('finding 8: a client without the codec key cannot make a workflow run: deprovisionAccount with a plaintext input fails at once', async () => {
  const victim = `keyless${tag}`;
  await provision(victim);
  const id = workflowIds.deprovision(victim, `k${Date.now()}`);
  const started = Date.now();
  const handle = await keyless.workflow.start('deprovisionAccount', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: id,
    args: [{ username: victim }],
  });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `the workflow failed: ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  assert.equal(err.cause.type, 'UnencryptedInput');
  assert.equal(err.cause.nonRetryable, true);
  assert.ok(Date.now() - started < 15_000, 'at once: no retried workflow task, no activity timeouts');
  assert.deepEqual(await activitiesScheduled(id), [], 'not one activity was scheduled');
  // The account is untouched: still active, its site still answers through the API's inventory.
  const account = await apiCall(base, `/api/v1/accounts/${victim}`, { token: admin });
  assert.equal(account.body.status, 'active', JSON.stringify(account.body));
});

test('finding 8: no input at all (a keyless `temporal workflow start` without --input) is refused the same way', async () => {
  const id = `prune-keyless-${tag}-${Date.now()}`;
  const handle = await keyless.workflow.start('pruneAuditEvents', { taskQueue: CONTROL_TASK_QUEUE, workflowId: id, args: [] as never });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.equal((err.cause as ApplicationFailure).type, 'UnencryptedInput');
  assert.deepEqual(await activitiesScheduled(id), []);
});

test('finding 8: outside callers get only ok / failing from /health/ready and 403 from /metrics; loopback and admin tokens see the detail', async () => {
  // As nginx forwards a remote client: X-Forwarded-For set to its address (the API trusts it from loopback only).
  const remote = { 'x-forwarded-for': '203.0.113.9' };
  const ready = await apiCall(base, '/health/ready', { headers: remote });
  assert.ok([200, 503].includes(ready.status));
  assert.deepEqual(Object.keys(ready.body), ['status'], JSON.stringify(ready.body));
  assert.ok(['ok', 'failing'].includes(ready.body.status));
  // (keyless<tag> was provisioned by the first test of this file.)
  const customer = await createToken(stack, 'customer', `keyless${tag}`);
  assert.deepEqual(
    Object.keys((await apiCall(base, '/health/ready', { headers: remote, token: customer })).body),
    ['status'],
    'a customer token adds nothing',
  );
  const asAdmin = await apiCall(base, '/health/ready', { headers: remote, token: admin });
  assert.ok(asAdmin.body.checks?.database, 'an admin token sees the checks');
  const local = await apiCall(base, '/health/ready');
  assert.ok(local.body.checks?.database, 'loopback (Prometheus, an operator on the host) sees the checks');

  const metrics = await apiCall(base, '/metrics', { headers: remote });
  assert.equal(metrics.status, 403, String(metrics.body).slice(0, 200));
  assert.equal(metrics.body.error, 'forbidden');
  assert.ok(!JSON.stringify(metrics.body).includes('npanel_'), 'no metric in the refusal');
  const adminMetrics = await apiCall(base, '/metrics', { headers: remote, token: admin });
  assert.equal(adminMetrics.status, 200);
  assert.match(String(adminMetrics.body), /npanel_http_requests_total|npanel_/);
  assert.equal((await apiCall(base, '/metrics')).status, 200, 'the loopback scrape still works');
});

const execFileP = promisify(execFile);

function envFile(file: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

test('findings 8 and 9: the rendered install: every upstream and scrape target is a listener the env files define, each port once, Temporal on loopback', async () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-api-ports-'));
  try {
    await execFileP(
      'bash',
      [
        path.join(repoRoot(), 'deploy', 'install.sh'),
        '--prefix',
        prefix,
        '--no-code',
        '--node',
        'n1',
        '--node-ip',
        '10.0.0.5',
        '--panel-host',
        'panel.example.net',
      ],
      { timeout: 60_000 },
    );
    const read = (rel: string) => fs.readFileSync(path.join(prefix, rel), 'utf8');
    const env = {
      ...envFile(path.join(prefix, 'etc/npanel/npanel.env')),
      ...envFile(path.join(prefix, 'etc/npanel/node-n1.env')),
      ...envFile(path.join(prefix, 'etc/temporal/temporal.env')),
    };
    const nginx = read('etc/nginx/conf.d/npanel.conf');
    const prometheus = read('etc/prometheus/prometheus.yml');
    for (const [name, text] of [
      ['nginx', nginx],
      ['prometheus', prometheus],
    ])
      assert.doesNotMatch(text, /@[A-Z_]+@/, `${name}: no placeholder left`);
    // The includes nginx will follow exist where install.sh put them.
    for (const inc of nginx.matchAll(/include (\S+);/g))
      assert.ok(fs.existsSync(path.join(prefix, inc[1]!)), `nginx include ${inc[1]} installed`);

    const temporalRaw = read('etc/temporal/config/production.yaml');
    const temporal = YAML.parse(temporalRaw.replace(/\{\{ env "([A-Z_]+)" \}\}/g, (_m, k: string) => env[k] ?? `missing-${k}`));
    const grafanaPort = Number(/^http_port = (\d+)$/m.exec(read('etc/grafana/grafana.ini'))![1]);
    const loki = YAML.parse(read('etc/loki/config.yml'));

    // Every listener of the server, by who defines it.
    const listeners: [string, string][] = [
      ['api (npanel.env)', `${env.NPANEL_API_HOST}:${env.NPANEL_API_PORT}`],
      ['worker metrics (npanel.env)', `${env.NPANEL_NODE_IP}:${env.NPANEL_METRICS_WORKER_PORT}`],
      ['SDK exporter (npanel.env)', `127.0.0.1:${env.NPANEL_METRICS_SDK_PORT}`],
      ['temporal metrics (temporal.env)', temporal.global.metrics.prometheus.listenAddress],
      ['temporal pprof', `127.0.0.1:${temporal.global.pprof.port}`],
      ['grafana', `127.0.0.1:${grafanaPort}`],
      ['loki http', `127.0.0.1:${loki.server.http_listen_port}`],
      ['loki grpc', `127.0.0.1:${loki.server.grpc_listen_port}`],
      ...[...nginx.matchAll(/listen (\d+)/g)].map((m) => [`nginx ${m[1]}`, `0.0.0.0:${m[1]}`] as [string, string]),
      ...Object.entries(temporal.services as Record<string, { rpc: Record<string, unknown> }>).flatMap(([svc, { rpc }]) =>
        ['grpcPort', 'membershipPort', 'httpPort']
          .filter((k) => rpc[k])
          .map((k) => [`temporal ${svc} ${k}`, `127.0.0.1:${rpc[k]}`] as [string, string]),
      ),
    ];
    const byPort = new Map<string, string[]>();
    for (const [who, addr] of listeners) {
      const port = addr.split(':').at(-1)!;
      assert.match(port, /^\d+$/, `${who}: ${addr}`);
      byPort.set(port, [...(byPort.get(port) ?? []), who]);
    }
    assert.deepEqual(
      [...byPort].filter(([, who]) => who.length > 1),
      [],
      'each port is used by one listener only',
    );

    // Upstreams and scrape targets point at those listeners.
    const upstreams = [...nginx.matchAll(/^\s*server (\S+);/gm)].map((m) => m[1]!);
    assert.deepEqual(
      upstreams,
      [`${env.NPANEL_API_HOST}:${env.NPANEL_API_PORT}`],
      'nginx proxies to the API where npanel.env says it listens',
    );
    const prom = YAML.parse(prometheus) as { scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[] };
    const workerTargets = YAML.parse(read('etc/prometheus/npanel-workers/n1.yml'))[0].targets as string[];
    const targets = [
      ...prom.scrape_configs.flatMap((j) => (j.static_configs ?? []).flatMap((c) => c.targets.map((t) => [j.job_name, t]))),
      ...workerTargets.map((t) => ['npanel-worker', t]),
    ];
    const known = new Set(listeners.map(([, a]) => a.replace(/^0\.0\.0\.0:/, '127.0.0.1:')));
    for (const [job, target] of targets)
      assert.ok(known.has(target!), `${job} scrapes ${target}, which no env file or config defines (listeners: ${[...known].join(' ')})`);
    assert.deepEqual(targets.map(([j]) => j).sort(), ['grafana', 'loki', 'npanel-api', 'npanel-worker', 'temporal']);

    // The Temporal frontend: loopback, or TLS with client certificates required.
    const frontend = temporal.services.frontend.rpc;
    const loopback = frontend.bindOnLocalHost === true || /^127\.|^::1$/.test(String(frontend.bindOnIP));
    assert.ok(
      loopback || temporal.global.tls?.frontend?.server?.requireClientAuth === true,
      `frontend binds ${frontend.bindOnIP} without TLS client auth`,
    );
    assert.match(
      env.NPANEL_TEMPORAL_ADDRESS!,
      new RegExp(`^127\\.0\\.0\\.1:${frontend.grpcPort}$`),
      'NPanel connects where the frontend listens',
    );
    const ui = YAML.parse(read('etc/temporal/config/ui-production.yaml'));
    assert.equal(ui.temporalGrpcAddress, `127.0.0.1:${frontend.grpcPort}`);
    assert.equal(ui.host, '127.0.0.1');
    // /metrics refused by nginx on every port (the snippet every server includes).
    const proxy = read('etc/nginx/snippets/npanel-proxy.conf');
    assert.match(proxy, /location = \/metrics \{\s+return 403/);
    assert.equal(
      (nginx.match(/include \/etc\/nginx\/snippets\/npanel-proxy\.conf;/g) ?? []).length,
      (nginx.match(/^server \{/gm) ?? []).length,
    );
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});
