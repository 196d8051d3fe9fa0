import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../../common/task-queues';
import { WORKFLOW_BUNDLE_PATH } from '../../worker/bundle';
import type { SweepTotals } from '../../workflows/certificate-renewal-sweep';
import { createTestEnv } from '../support/workflow-env';

/**
 * Workflow logic of certificateRenewalSweep and renewCertificate under the SDK's TestWorkflowEnvironment, with
 * the real workflow bundle and mocked activities (no CA, no nginx): bounded concurrency over 200 records,
 * continue-as-new, rate-limit back-off, and the renewal's rollback.
 */

let env: TestWorkflowEnvironment;
let native: NativeConnection;
let client: Client;

before(async () => {
  env = await createTestEnv();
  native = env.nativeConnection;
  client = env.client;
});

after(async () => {
  await env?.teardown();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  orderDelayMs?: number;
  orderFails?: (domain: string) => Error | undefined;
  servedSerial?: (domain: string, ordered: string) => string;
}

function mocks(records: { id: number; domain: string }[], opts: Options = {}) {
  const state = {
    running: 0,
    maxRunning: 0,
    orders: new Map<string, number>(),
    orderStarts: new Map<string, number>(),
    orderFailedAt: new Map<string, number>(),
    restored: [] as unknown[],
    discarded: [] as string[],
    failures: [] as { domain: string; outcome: string; error: string }[],
    issued: [] as string[],
  };
  const serialOf = (domain: string) => Buffer.from(domain).toString('hex').toUpperCase().slice(0, 32);
  const control = {
    // First and last activity of every renewal: the span between them is the renewal's lifetime.
    async certificateTarget({ domain }: { domain: string }) {
      state.running++;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      return { domain, account: 'acct', accountId: 1, node: 'a' };
    },
    async appendAudit() {
      state.running--;
    },
    async listDueCertificates({ afterId, limit }: { afterId: number; limit: number }) {
      return { items: records.filter((r) => r.id > afterId).slice(0, limit) };
    },
    async recordCertificateIssued({ domain }: { domain: string }) {
      state.issued.push(domain);
      return { outcome: 'renewed' };
    },
    async recordCertificateFailure(input: { domain: string; outcome: string; error: string }) {
      state.failures.push(input);
    },
  };
  const node = {
    async orderCertificate({ domain }: { domain: string }) {
      state.orders.set(domain, (state.orders.get(domain) ?? 0) + 1);
      state.orderStarts.set(domain, Date.now());
      await sleep(opts.orderDelayMs ?? 20);
      const err = opts.orderFails?.(domain);
      if (err) {
        state.orderFailedAt.set(domain, Date.now());
        throw err;
      }
      const serial = serialOf(domain);
      return {
        serial,
        issuer: 'CN=mock',
        notBefore: new Date().toISOString(),
        notAfter: new Date(Date.now() + 90 * 86_400_000).toISOString(),
        certPath: `/certs/${domain}/${serial}/cert.pem`,
        keyPath: `/certs/${domain}/${serial}/key.pem`,
        workflowId: 'x',
        served: { certPath: `/certs/${domain}/0A/cert.pem`, keyPath: `/certs/${domain}/0A/key.pem` },
      };
    },
    async installCertificate() {
      return { changed: true };
    },
    async probeServedCertificate({ domain }: { domain: string }) {
      const ordered = serialOf(domain);
      return { serial: opts.servedSerial?.(domain, ordered) ?? ordered, issuer: 'CN=mock', notAfter: new Date().toISOString() };
    },
    async restoreCertificate(input: { previous: unknown }) {
      state.restored.push(input.previous);
    },
    async discardCertificate({ serial }: { serial: string }) {
      state.discarded.push(serial);
      return true;
    },
    async pruneCertificates() {
      return 0;
    },
  };
  return { state, control, node };
}

const noopSinks = { metrics: { workflowStarted: { fn() {} }, workflowClosed: { fn() {} } } };

async function withWorkers<T>(m: ReturnType<typeof mocks>, fn: () => Promise<T>): Promise<T> {
  const controlWorker = await Worker.create({
    connection: native,
    taskQueue: CONTROL_TASK_QUEUE,
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
    activities: m.control,
    sinks: noopSinks as never,
    maxConcurrentActivityTaskExecutions: 200,
  });
  const nodeWorker = await Worker.create({
    connection: native,
    taskQueue: nodeTaskQueue('a'),
    activities: m.node,
    maxConcurrentActivityTaskExecutions: 200,
  });
  const run = fn();
  await Promise.all([controlWorker.runUntil(run), nodeWorker.runUntil(run)]);
  return run;
}

const records = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ id: i + 1, domain: `${prefix}${i + 1}.example` }));

test('a sweep over 200 due records never runs more renewals at once than maxConcurrent, and renews each once', async () => {
  const m = mocks(records(200, 'c'), { orderDelayMs: 30 });
  const id = `sweep-concurrency-${Date.now()}`;
  const totals = (await withWorkers(m, () =>
    client.workflow.execute('certificateRenewalSweep', {
      taskQueue: CONTROL_TASK_QUEUE,
      workflowId: id,
      args: [{ maxConcurrent: 4, pageSize: 50, historyLimit: 600 }],
    }),
  )) as SweepTotals;
  assert.equal(totals.due, 200);
  assert.equal(totals.renewed, 200);
  assert.ok(m.state.maxRunning <= 4, `at most 4 at once, saw ${m.state.maxRunning}`);
  assert.equal(m.state.maxRunning, 4, 'the window is used (sliding, not one at a time)');
  assert.ok(totals.maxInFlight <= 4);
  assert.equal(m.state.orders.size, 200);
  assert.ok(
    [...m.state.orders.values()].every((n) => n === 1),
    'no domain ordered twice',
  );
  // History stayed bounded: the sweep continued as new, and no run went past its limit.
  assert.ok(totals.runs >= 2, `continued as new (runs: ${totals.runs})`);
  const lengths: number[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${id}'` })) lengths.push(wf.historyLength);
  assert.equal(lengths.length, totals.runs);
  assert.ok(Math.max(...lengths) <= 600, `history lengths per run: ${lengths.join(', ')}`);
});

test('a 429 with Retry-After pauses new renewals that long; the limited domain is not retried in a loop', async () => {
  const limited = 'r3.example';
  const m = mocks(records(5, 'r'), {
    orderFails: (d) =>
      d === limited
        ? ApplicationFailure.create({
            message: 'rate limited',
            type: 'AcmeRateLimited',
            nonRetryable: true,
            details: [{ retryAfterSeconds: 2 }],
          })
        : undefined,
  });
  const totals = (await withWorkers(m, () =>
    client.workflow.execute('certificateRenewalSweep', {
      taskQueue: CONTROL_TASK_QUEUE,
      workflowId: `sweep-429-${Date.now()}`,
      args: [{ maxConcurrent: 1 }],
    }),
  )) as SweepTotals;
  assert.equal(totals.rateLimited, 1);
  assert.equal(totals.renewed, 4);
  assert.equal(m.state.orders.get(limited), 1);
  const waited = m.state.orderStarts.get('r4.example')! - m.state.orderFailedAt.get(limited)!;
  assert.ok(waited >= 1900, `next order ${waited} ms after the 429 (Retry-After 2 s)`);
});

test('a Retry-After beyond maxBackoffSeconds ends the sweep and leaves the rest for the next one', async () => {
  const m = mocks(records(5, 's'), {
    orderFails: (d) =>
      d === 's2.example'
        ? ApplicationFailure.create({
            message: 'rate limited',
            type: 'AcmeRateLimited',
            nonRetryable: true,
            details: [{ retryAfterSeconds: 7200 }],
          })
        : undefined,
  });
  const totals = (await withWorkers(m, () =>
    client.workflow.execute('certificateRenewalSweep', {
      taskQueue: CONTROL_TASK_QUEUE,
      workflowId: `sweep-stop-${Date.now()}`,
      args: [{ maxConcurrent: 1, maxBackoffSeconds: 60 }],
    }),
  )) as SweepTotals;
  assert.equal(totals.stoppedForRateLimit, true);
  assert.deepEqual([...m.state.orders.keys()], ['s1.example', 's2.example']);
});

test('renewCertificate: a served serial other than the new one rolls back to the previous pair and says why', async () => {
  const m = mocks([], { servedSerial: () => '0A' });
  const err = await withWorkers(m, () =>
    client.workflow
      .execute('renewCertificate', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId: `renew-rb-${Date.now()}`,
        args: [{ domain: 'rb.example' }],
      })
      .then(
        () => null,
        (e: unknown) => e,
      ),
  );
  assert.ok(err instanceof WorkflowFailedError);
  const cause = err.cause as ApplicationFailure;
  assert.equal(cause.type, 'CertificateNotServed');
  assert.match(cause.message, /rolled back: nginx serves serial 0A/);
  assert.deepEqual(m.state.restored, [{ certPath: '/certs/rb.example/0A/cert.pem', keyPath: '/certs/rb.example/0A/key.pem' }]);
  assert.equal(m.state.discarded.length, 1);
  assert.equal(m.state.failures[0]?.outcome, 'rolled_back');
  assert.deepEqual(m.state.issued, []);
});
