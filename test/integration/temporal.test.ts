import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SEARCH_ATTRIBUTE_NAMES } from '../../common/constants';
import { loadStack } from '../support/stack';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/**
 * The Temporal side of the stack as an operator sees it with the real `temporal` CLI: the namespace, the
 * search attributes the API filters on, Temporal Web, and a worker polling every queue.
 */

const execFileP = promisify(execFile);
const stack = loadStack();
const address = stack.file.temporal.address;
// bin/npanel exports the path of the CLI it installed; a developer's shell has it on PATH.
const temporalBin = process.env.NPANEL_TEMPORAL_BIN || 'temporal';

async function cli(args: string[]): Promise<unknown> {
  const { stdout } = await execFileP(temporalBin, [...args, '--address', address, '-o', 'json'], { timeout: 15_000 });
  return JSON.parse(stdout);
}

test('the default namespace is registered', async () => {
  const ns = (await cli(['operator', 'namespace', 'describe', '-n', stack.file.temporal.namespace])) as {
    namespaceInfo: { name: string; state: string };
  };
  assert.equal(stack.file.temporal.namespace, 'default');
  assert.equal(ns.namespaceInfo.name, 'default');
  assert.equal(ns.namespaceInfo.state, 'NAMESPACE_STATE_REGISTERED');
});

test('the four NPanel search attributes are registered as Keyword', async () => {
  const list = (await cli(['operator', 'search-attribute', 'list', '-n', 'default'])) as {
    customAttributes?: Record<string, string>;
  };
  const custom = list.customAttributes ?? {};
  assert.deepEqual([...SEARCH_ATTRIBUTE_NAMES].sort(), ['NpanelAccount', 'NpanelDomain', 'NpanelNode', 'NpanelStatus']);
  for (const name of SEARCH_ATTRIBUTE_NAMES) {
    assert.equal(custom[name], 'INDEXED_VALUE_TYPE_KEYWORD', `${name} in ${JSON.stringify(custom)}`);
  }
});

test('Temporal Web answers 200 with its HTML page', async () => {
  const res = await fetch(stack.file.temporal.ui, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await res.text(), /<html/i);
});

async function pollers(queue: string, type: 'workflow' | 'activity'): Promise<{ identity: string }[]> {
  const res = (await cli(['task-queue', 'describe', '--task-queue', queue, '--task-queue-type', type])) as {
    pollers: { identity: string; taskQueueType: string }[] | null;
  };
  return (res.pollers ?? []).filter((p) => p.taskQueueType === type);
}

test('workers poll the control queue and each node queue', async () => {
  const control = await pollers(CONTROL_TASK_QUEUE, 'workflow');
  assert.ok(control.length > 0, 'nobody polls workflow tasks on npanel');
  assert.ok((await pollers(CONTROL_TASK_QUEUE, 'activity')).length > 0, 'nobody polls activity tasks on npanel');
  const nodeA = await pollers('npanel-node-a', 'activity');
  const nodeB = await pollers('npanel-node-b', 'activity');
  assert.ok(nodeA.length > 0, 'nobody polls npanel-node-a');
  assert.ok(nodeB.length > 0, 'nobody polls npanel-node-b (the harness starts node b)');
  // Node b has its own worker process: a node's local activities must run on that node, not on a.
  const ids = (ps: { identity: string }[]) => new Set(ps.map((p) => p.identity));
  for (const id of ids(nodeB)) assert.ok(!ids(nodeA).has(id), `worker ${id} polls both node queues`);
  // A queue nobody serves reports no pollers: the check above can fail.
  assert.equal((await pollers('npanel-node-nonexistent', 'activity')).length, 0);
});
