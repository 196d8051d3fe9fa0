import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { FAILURE, type FailureType } from '../../common/failure-types';
import type { MigrateSiteInput } from '../../common/migration-input';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../../common/task-queues';
import { WORKFLOW_BUNDLE_PATH } from '../../worker/bundle';
import { startDevServer, type DevServer } from '../support/temporal-dev-server';

/**
 * The operator gate of migrateSite reads the failure kinds of common/failure-types.ts: a bad-input failure of
 * a step (here the mailbox step, with the mail activity's own MailInvalidName) rolls the migration back at
 * once, while a failure of the world (MailDomainNotFound) waits for the operator. Real workflow bundle on a
 * private dev server, mocked activities: no daemons.
 */

let server: DevServer;
let native: NativeConnection;
let client: Client;
let connection: Connection;

before(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  server = await startDevServer();
  native = await NativeConnection.connect({ address: server.address });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
});

after(async () => {
  await connection?.close();
  await native?.close();
  await server?.stop();
});

const input: MigrateSiteInput = {
  domain: 'shop.example',
  account: 'shop',
  node: 'a',
  nodeIp: '127.0.0.2',
  cutover: 'auto',
  source: {
    host: 'old.example',
    port: 22,
    user: 'site',
    password: 'x',
    hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
    docroot: '/srv/site',
    ip: '127.0.0.3',
    databases: [],
    mailboxes: [{ local: 'info', maildir: '/srv/mail/info', password: 'Gr8-Secret-99' }],
  },
};

/** Activities that all succeed except ensureMailbox, which fails with `mailFailure`; calls are recorded. */
function mocks(mailFailure: FailureType) {
  const calls: string[] = [];
  const ok =
    <T>(name: string, value: T) =>
    async () => (calls.push(name), value);
  const control = {
    recordMigration: ok('recordMigration', undefined),
    getAccount: ok('getAccount', { domain: input.domain, node: input.node, status: 'active', databases: [] }),
    getDnsRecords: ok('getDnsRecords', [{ name: 'shop.example.', type: 'A', ttl: 3600, contents: ['127.0.0.3'] }]),
    ensureDnsZone: ok('ensureDnsZone', undefined),
    setDnsRecords: ok('setDnsRecords', { changed: 1 }),
    deleteDnsZone: ok('deleteDnsZone', undefined),
    updateMigration: ok('updateMigration', undefined),
    claimNames: async (a: { names: unknown[] }) => (calls.push('claimNames'), a.names),
    releaseNames: ok('releaseNames', undefined),
    recordMigratedResources: ok('recordMigratedResources', undefined),
    appendAudit: ok('appendAudit', undefined),
  };
  const node = {
    migrationPreflight: ok('migrationPreflight', { files: 1, bytes: 1, hostKey: 'k' }),
    ensureDocroot: ok('ensureDocroot', { path: '/srv/www/shop/shop.example' }),
    migrationSyncFiles: ok('migrationSyncFiles', {
      totalFiles: 1,
      totalBytes: 1,
      copiedBytes: 1,
      literalBytes: 1,
      alreadyPresentBytes: 0,
      attempt: 1,
      resumedFrom: 0,
      refused: [],
      refusedCount: 0,
    }),
    ensureMailDomain: ok('ensureMailDomain', undefined),
    ensureMailbox: async () => {
      calls.push('ensureMailbox');
      throw ApplicationFailure.nonRetryable(`mailbox step failed with ${mailFailure}`, mailFailure);
    },
    removeMailbox: ok('removeMailbox', undefined),
    migrationSyncMaildir: ok('migrationSyncMaildir', undefined),
    migrationVerifySite: ok('migrationVerifySite', undefined),
  };
  return { calls, control, node };
}

const noopSinks = { metrics: { workflowStarted: { fn() {} }, workflowClosed: { fn() {} } } };

async function withWorkers<T>(m: ReturnType<typeof mocks>, fn: () => Promise<T>): Promise<T> {
  const controlWorker = await Worker.create({
    connection: native,
    taskQueue: CONTROL_TASK_QUEUE,
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
    activities: m.control,
    sinks: noopSinks as never,
  });
  const nodeWorker = await Worker.create({ connection: native, taskQueue: nodeTaskQueue('a'), activities: m.node });
  const run = fn();
  await Promise.all([controlWorker.runUntil(run), nodeWorker.runUntil(run)]);
  return run;
}

test(
  'a bad-input failure (MailInvalidName) rolls the migration back at once, without waiting for an operator',
  { timeout: 60_000 },
  async () => {
    const m = mocks(FAILURE.MailInvalidName);
    const err = await withWorkers(m, () =>
      client.workflow
        .execute('migrateSite', {
          taskQueue: CONTROL_TASK_QUEUE,
          workflowId: `migrate-bad-input-${Date.now()}`,
          args: [input],
          workflowExecutionTimeout: '30s',
        })
        .then(
          () => null,
          (e: unknown) => e,
        ),
    );
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause as ApplicationFailure;
    assert.equal(cause.type, FAILURE.MigrationRolledBack, cause.message);
    assert.match(cause.message, /MailInvalidName/);
    // The mailbox claimed for this migration was undone and released; DNS went back as it was.
    assert.ok(m.calls.includes('removeMailbox'), m.calls.join(','));
    assert.ok(m.calls.includes('releaseNames'));
    assert.equal(m.calls.filter((c) => c === 'ensureMailbox').length, 1, 'tried once: no retry, no operator');
  },
);

test('a failure of the world (MailDomainNotFound) waits at the gate for the operator', { timeout: 60_000 }, async () => {
  const m = mocks(FAILURE.MailDomainNotFound);
  const workflowId = `migrate-state-${Date.now()}`;
  await withWorkers(m, async () => {
    const handle = await client.workflow.start('migrateSite', {
      taskQueue: CONTROL_TASK_QUEUE,
      workflowId,
      args: [input],
      workflowExecutionTimeout: '30s',
    });
    type Waiting = { step: string; errorType: string | null } | null;
    const waitingAt = async (): Promise<Waiting> => ((await handle.query('progress')) as { operator: Waiting }).operator;
    let waiting: Waiting = null;
    for (let i = 0; i < 100 && !waiting; i++) {
      waiting = await waitingAt();
      if (!waiting) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(waiting ? { step: waiting.step, errorType: waiting.errorType } : null, {
      step: 'mail',
      errorType: FAILURE.MailDomainNotFound,
    });
    await handle.executeUpdate('resolve', { args: [{ action: 'abort' }] });
    await assert.rejects(handle.result(), (e: WorkflowFailedError) => (e.cause as ApplicationFailure).type === FAILURE.MigrationAborted);
  });
});
