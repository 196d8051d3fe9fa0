import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Connection, Client } from '@temporalio/client';
import { imapLoginWorks } from '../support/imap';
import { loadStack } from '../support/stack';
import {
  adminPool,
  apiClient,
  ftpUpload,
  httpGet,
  inventoryPool,
  NOTHING,
  nodePaths,
  strongPassword,
  traceAccount,
  uniqueName,
} from '../support/accounts';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/**
 * An account placed on node b: its files live under <home>/nodes/b, node b's daemons serve it, node a has
 * none of it, and every node step ran on node b's task queue, picked up by node b's worker process (checked
 * in the Temporal history: ActivityTaskScheduled names the queue, ActivityTaskStarted the worker identity).
 */
const stack = loadStack();
const { api, waitClosed } = apiClient(stack);
const nodeA = nodePaths(stack, stack.file.node.id);
const nodeB = nodePaths(stack, 'b');
const pools = { inventory: inventoryPool(stack), admin: adminPool(stack) };
const username = uniqueName('nodeb');
const domain = `${username}.example`;
const mailbox = { local: 'info', password: strongPassword() };
const ftpPassword = strongPassword();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-nodeb-'));

after(async () => {
  const res = await api('GET', `/api/v1/accounts/${username}`);
  if (res.status === 200) {
    const del = await api('DELETE', `/api/v1/accounts/${username}`);
    if (del.status === 202) await waitClosed(del.body.workflowId).catch(() => undefined);
  }
  await pools.inventory.end();
  await pools.admin.end();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * The pid and queues of a worker, from its log's last "worker polling" line (a worker's Temporal identity is
 * `<pid>@<host>`, and each node's worker writes its own log).
 */
function worker(log: string): { pid: number; queues: string[] } {
  const lines = fs.readFileSync(path.join(stack.home, 'logs', log), 'utf8').split('\n');
  const polling = lines.filter((l) => l.includes('"worker polling"')).pop();
  assert.ok(polling, `a "worker polling" line in ${log}`);
  const { pid, queues } = JSON.parse(polling) as { pid: number; queues: string[] };
  return { pid, queues };
}

test("an account on node b lives on node b only, and only node b's worker touched it", async () => {
  assert.ok(stack.file.nodes?.b, 'the test stack has a node b');
  const res = await api('POST', '/api/v1/accounts', { username, domain, node: 'b', mailboxes: [mailbox], ftp: { password: ftpPassword } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const workflowId = res.body.workflowId as string;
  const wf = await waitClosed(workflowId);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
  assert.equal(wf.node, 'b');
  assert.equal(wf.result.docroot, path.join(nodeB.nginx.webRoot, username, domain, 'public_html'));
  assert.equal((await api('GET', `/api/v1/accounts/${username}`)).body.node, 'b');

  // Files: all under nodes/b, none under nodes/a.
  const onB = await traceAccount(stack, pools, nodeB, { username, domain });
  assert.deepEqual(onB, {
    ...NOTHING,
    zone: true,
    vhostFile: true,
    docroot: true,
    mailDomain: true,
    mailboxes: [`info@${domain}`],
    maildir: true,
    ftpUser: true,
    accountRow: true,
  });
  const onA = await traceAccount(stack, pools, nodeA, { username, domain });
  assert.deepEqual(onA, { ...NOTHING, zone: true, accountRow: true }, 'node a has no file of the account (zone and row are control-plane)');

  // Served by node b's daemons, unknown to node a's.
  const b = nodeB.ports;
  assert.equal((await httpGet(b.nginx.http, domain)).status, 200);
  assert.equal((await httpGet(nodeA.ports.nginx.http, domain)).status, 404);
  assert.equal(await imapLoginWorks(b.imap, `info@${domain}`, mailbox.password), true);
  assert.equal(await imapLoginWorks(nodeA.ports.imap, `info@${domain}`, mailbox.password), false);
  fs.writeFileSync(path.join(tmp, 'b.html'), 'served by b\n');
  assert.equal(await ftpUpload(b.ftp, username, ftpPassword, path.join(tmp, 'b.html'), 'b.html'), 0);
  assert.equal((await httpGet(b.nginx.http, domain, '/b.html')).body, 'served by b\n');
  assert.equal(await ftpUpload(nodeA.ports.ftp, username, ftpPassword, path.join(tmp, 'b.html'), 'b.html'), 67);

  // The history: node activities were scheduled on npanel-node-b and started by node b's worker process.
  const connection = await Connection.connect({ address: stack.file.temporal.address });
  try {
    const client = new Client({ connection, namespace: stack.file.temporal.namespace });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = new Map<string, { type: string; queue: string }>();
    const started: { type: string; queue: string; identity: string }[] = [];
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes) {
        const a = e.activityTaskScheduledEventAttributes;
        scheduled.set(String(e.eventId), { type: a.activityType?.name ?? '', queue: a.taskQueue?.name ?? '' });
      }
      if (e.activityTaskStartedEventAttributes) {
        const a = e.activityTaskStartedEventAttributes;
        started.push({ ...scheduled.get(String(a.scheduledEventId))!, identity: a.identity ?? '' });
      }
    }
    const nodeSteps = started.filter((s) => s.queue.startsWith('npanel-node-'));
    assert.deepEqual(
      [...new Set(nodeSteps.map((s) => s.type))].sort(),
      // Mail is one activity for the domain and its mailboxes, the vhost one with its docroot (provisionFast).
      ['ensureDocroot', 'ensureFtpUser', 'ensureMailboxes', 'ensureSiteVhost'],
    );
    const workerB = worker('worker-b.log');
    const workerA = worker('worker.log');
    assert.deepEqual(workerB.queues, ['npanel-node-b'], "node b's worker polls only its own queue");
    assert.ok(!workerA.queues.includes('npanel-node-b'), "node a's worker does not poll node b's queue");
    const pidB = workerB.pid;
    const pidA = workerA.pid;
    for (const s of nodeSteps) {
      assert.equal(s.queue, 'npanel-node-b', `${s.type} queue`);
      assert.equal(s.identity.split('@')[0], String(pidB), `${s.type} started by node b's worker (${s.identity})`);
    }
    // Control steps (inventory, DNS) belong to the control queue, which node a's worker polls.
    for (const s of started.filter((x) => x.queue === CONTROL_TASK_QUEUE)) assert.equal(s.identity.split('@')[0], String(pidA), s.type);
  } finally {
    await connection.close();
  }

  const del = await api('DELETE', `/api/v1/accounts/${username}`);
  assert.equal(del.status, 202);
  assert.equal((await waitClosed(del.body.workflowId)).status, 'completed');
  assert.deepEqual(await traceAccount(stack, pools, nodeB, { username, domain }), NOTHING);
});
