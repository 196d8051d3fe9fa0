import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import { inArray, like, sql } from 'drizzle-orm';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { loadTemporalYaml } from '../../config/load';
import { createDb } from '../../db/client';
import { createRepositories } from '../../db/repositories';
import { auditEvents } from '../../db/schema';
import type { PruneAuditEventsResult } from '../../workflows/prune-audit-events';
import { loadStack, stackClient } from '../support/stack';

const stack = loadStack();
const handle = createDb({
  host: stack.file.mysql.host,
  port: stack.file.mysql.port,
  user: 'npanel',
  password: stack.secrets.inventoryPassword,
  database: 'npanel',
});
const repos = createRepositories(handle.db);
const DAY = 86_400_000;
const connection = Connection.lazy({ address: stack.file.temporal.address });
const client = stackClient(connection, stack);

after(async () => {
  await handle.db.delete(auditEvents).where(like(auditEvents.workflowId, 'retention-test-%'));
  await handle.close();
  await connection.close();
});

test('the retention workflow prunes audit rows past the policy in batches; rows inside the window survive', async () => {
  const tag = `retention-test-${crypto.randomBytes(4).toString('hex')}`;
  const row = (suffix: string, ageDays: number) => ({
    workflowId: `${tag}-${suffix}`,
    workflowType: 'provisionAccount',
    step: 'reserve',
    action: 'do' as const,
    outcome: 'ok' as const,
    actor: 'test',
    account: 'rt',
    at: new Date(Date.now() - ageDays * DAY),
  });
  const old = ['old1', 'old2', 'old3', 'old4', 'old5'].map((s, i) => row(s, 366 + i * 100));
  const kept = [row('young-364d', 364), row('young-30d', 30), row('young-now', 0)];
  for (const r of [...old, ...kept]) await repos.audit.append(r);

  // batchSize 2 over 5 old rows: three batches, the last one short.
  const result = (await client.workflow.execute('pruneAuditEvents', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: `${tag}-prune`,
    args: [{ keepDays: 365, batchSize: 2 }],
    workflowExecutionTimeout: '2m',
  })) as PruneAuditEventsResult;
  assert.ok(result.deleted >= 5, JSON.stringify(result));
  assert.ok(result.batches >= 3, JSON.stringify(result));
  const cutoff = new Date(result.cutoff).getTime();
  assert.ok(Math.abs(cutoff - (Date.now() - 365 * DAY)) < 5 * 60_000, `cutoff ${result.cutoff} is 365 days back`);

  const left = await handle.db
    .select({ id: auditEvents.workflowId })
    .from(auditEvents)
    .where(like(auditEvents.workflowId, `${tag}-%`));
  assert.deepEqual(left.map((r) => r.id).sort(), kept.map((r) => r.workflowId).sort());

  // Running it again deletes nothing more (idempotent) and still keeps the window.
  const again = (await client.workflow.execute('pruneAuditEvents', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: `${tag}-prune-2`,
    args: [{ keepDays: 365, batchSize: 2 }],
  })) as PruneAuditEventsResult;
  assert.equal(again.deleted, 0);
  const still = await handle.db
    .select({ id: auditEvents.workflowId })
    .from(auditEvents)
    .where(
      inArray(
        auditEvents.workflowId,
        kept.map((r) => r.workflowId),
      ),
    );
  assert.equal(still.length, kept.length);
});

test('audit rows are never cascade-deleted: no foreign key touches audit_events', async () => {
  const [rows] = await handle.db.execute(sql`
    SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND (TABLE_NAME = 'audit_events' OR REFERENCED_TABLE_NAME = 'audit_events')`);
  assert.deepEqual(rows, []);
});

test("the worker keeps a Schedule that runs the retention daily with temporal.yaml's policy", async () => {
  const policy = loadTemporalYaml().schedules.auditRetention;
  const desc = await client.schedule.getHandle(policy.id).describe();
  assert.equal(desc.action.type, 'startWorkflow');
  assert.equal(desc.action.workflowType, 'pruneAuditEvents');
  assert.equal(desc.action.taskQueue, CONTROL_TASK_QUEUE);
  assert.deepEqual(desc.action.args, [{ keepDays: policy.keepDays, batchSize: policy.batchSize }]);
  assert.equal(policy.keepDays, 365);
  assert.equal(desc.spec.intervals?.[0]?.every, 24 * 3600 * 1000);
});
