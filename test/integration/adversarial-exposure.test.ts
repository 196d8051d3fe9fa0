import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CONTROL_TASK_QUEUE } from '../../common/constants';
import { workflowIds } from '../../common/workflow-ids';
import { adminToken, apiCall, until } from '../support/http';
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
  await until(`${username} provisioned`, async () => {
    const wf = await apiCall(base, `/api/v1/workflows/${res.body.workflowId}`, { token: admin });
    if (wf.body.status === 'failed') throw new Error(JSON.stringify(wf.body));
    return wf.body.status === 'completed' ? true : undefined;
  }, 90_000);
}

async function activitiesScheduled(workflowId: string): Promise<string[]> {
  const history = await keyless.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? '?'] : []));
}

test('finding 8: a client without the codec key cannot make a workflow run: deprovisionAccount with a plaintext input fails at once', async () => {
  const victim = `keyless${tag}`;
  await provision(victim);
  const id = workflowIds.deprovision(victim, `k${Date.now()}`);
  const started = Date.now();
  const handle = await keyless.workflow.start('deprovisionAccount', { taskQueue: CONTROL_TASK_QUEUE, workflowId: id, args: [{ username: victim }] });
  const err = await handle.result().then(() => null, (e: unknown) => e);
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
  const err = await handle.result().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.equal((err.cause as ApplicationFailure).type, 'UnencryptedInput');
  assert.deepEqual(await activitiesScheduled(id), []);
});
