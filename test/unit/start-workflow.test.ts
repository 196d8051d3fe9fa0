import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from '@temporalio/client';
import { startWorkflow } from '../../api/start-workflow';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/** A client that only records what a start would send to Temporal. */
function recordingClient() {
  const starts: { type: string; options: Record<string, unknown> }[] = [];
  const client = {
    workflow: { start: async (type: string, options: Record<string, unknown>) => void starts.push({ type, options }) },
  } as unknown as Client;
  return { client, starts };
}

const values = (options: Record<string, unknown>) =>
  Object.fromEntries((options.typedSearchAttributes as { key: { name: string }; value: string }[]).map((p) => [p.key.name, p.value]));

test('startWorkflow takes queue and search attributes from the registry', async () => {
  const { client, starts } = recordingClient();
  await startWorkflow(client, {
    type: 'suspendAccount',
    workflowId: 'suspend-acme-1',
    args: [{ username: 'acme' }],
    attributes: { account: 'acme', domain: 'acme.example', node: 'a' },
  });
  assert.equal(starts[0]!.type, 'suspendAccount');
  assert.equal(starts[0]!.options.taskQueue, CONTROL_TASK_QUEUE);
  assert.deepEqual(values(starts[0]!.options), {
    NpanelStatus: 'running',
    NpanelAccount: 'acme',
    NpanelDomain: 'acme.example',
    NpanelNode: 'a',
  });
  assert.equal(starts[0]!.options.workflowIdConflictPolicy, undefined);
  assert.equal('memo' in starts[0]!.options, false);
});

test('a retry of a timer sets no account attributes even if asked to; a renewal joins a running one', async () => {
  const { client, starts } = recordingClient();
  await startWorkflow(client, {
    type: 'waitForTimer',
    workflowId: 'timer-2',
    args: [{ ms: 1 }],
    attributes: { account: 'x', domain: null },
    memo: { retryOf: 'timer-1' },
  });
  assert.deepEqual(values(starts[0]!.options), { NpanelStatus: 'running' });
  assert.deepEqual(starts[0]!.options.memo, { retryOf: 'timer-1' });
  await startWorkflow(client, {
    type: 'renewCertificate',
    workflowId: 'certificate-a.example',
    args: [{ domain: 'a.example' }],
    attributes: { domain: 'a.example' },
    joinRunning: true,
  });
  assert.equal(starts[1]!.options.workflowIdConflictPolicy, 'USE_EXISTING');
});
