import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as barrel from '../../workflows';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { WORKFLOW_ID_PATTERN, workflowIds } from '../../common/workflow-ids';
import { isWorkflowType, PROGRESS_QUERIES, progressQueryOf, WORKFLOW_REGISTRY, WORKFLOW_TYPES } from '../../common/workflow-types';
import { workflowListQuery } from '../../common/api-schemas';

test('the barrel exports one workflow function per registered type, and nothing else', () => {
  assert.deepEqual(Object.keys(barrel).sort(), [...WORKFLOW_TYPES].sort());
  for (const t of WORKFLOW_TYPES) assert.equal(typeof (barrel as Record<string, unknown>)[t], 'function', t);
});

test('every type runs on the control queue and the list filter accepts exactly the registered types', () => {
  for (const t of WORKFLOW_TYPES) assert.equal(WORKFLOW_REGISTRY[t].taskQueue, CONTROL_TASK_QUEUE, t);
  for (const t of WORKFLOW_TYPES) assert.equal(workflowListQuery.safeParse({ type: t }).success, true, t);
  assert.equal(workflowListQuery.safeParse({ type: 'provisionAccountV0' }).success, false);
  assert.equal(isWorkflowType('constructor'), false);
});

test('each progress answer type has its own query name', () => {
  assert.equal(progressQueryOf('provisionAccount'), PROGRESS_QUERIES.steps);
  assert.equal(progressQueryOf('certificateRenewalSweep'), PROGRESS_QUERIES.sweep);
  assert.equal(progressQueryOf('waitForTimer'), PROGRESS_QUERIES.timer);
  assert.equal(progressQueryOf('pruneAuditEvents'), null);
  assert.equal(new Set(Object.values(PROGRESS_QUERIES)).size, Object.keys(PROGRESS_QUERIES).length);
});

test('retry and child IDs are built by workflow-ids and stay within the ID pattern', () => {
  const first = workflowIds.provision('acme', '01j0000000000000000000000a');
  const retry = workflowIds.retry(first, '01j0000000000000000000000b');
  assert.equal(retry, 'provision-acme-01j0000000000000000000000b');
  let long = workflowIds.certificate(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`);
  for (let i = 0; i < 3; i++) long = workflowIds.retry(long, '01j0000000000000000000000c');
  assert.match(long, WORKFLOW_ID_PATTERN);
  assert.equal(workflowIds.migrationAccount('migrate-shop.example-01j', 'abcd1234'), 'migrate-shop.example-01j-account-abcd1234');
});
