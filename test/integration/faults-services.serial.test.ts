import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { workflowIds } from '../../common/workflow-ids';
import {
  accountBody,
  adminPool,
  apiClient,
  inventoryPool,
  NOTHING,
  nodePaths,
  sleep,
  strongPassword,
  traceAccount,
  uniqueName,
} from '../support/accounts';
import { startFaultStack, type FaultStack } from '../support/fault-stack';
import { stackClient } from '../support/stack';
import { checkConsistency } from './faults-consistency';

/**
 * Daemons of the control plane failing under running workflows, on a stack of the test's own:
 * - the Temporal dev server restarted mid-workflow: the workflows carry on where they were;
 * - MariaDB (the inventory) stopped for 30 s: inventory activities retry and the workflows complete;
 * - PowerDNS stopped past the forward retry budget: provisioning rolls back and leaves nothing.
 * Serial: it stops shared daemons (of its own stack) and loads the machine.
 */
const PORT_BASE = 29400;
let faults: FaultStack;
let client: Client;
let connection: Connection;

before(async () => {
  faults = await startFaultStack('services', PORT_BASE);
  connection = await Connection.connect({ address: faults.stack.file.temporal.address });
  client = stackClient(connection, faults.stack);
});
after(async () => {
  await connection?.close();
  await faults?.down();
});

async function provisioned(prefix: string, withDatabase = true): Promise<string> {
  const { api, waitClosed } = apiClient(faults.stack);
  const body = accountBody(prefix, { database: withDatabase });
  const res = await api('POST', '/api/v1/accounts', body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal((await waitClosed(res.body.workflowId, 120_000)).status, 'completed');
  return body.username;
}

async function assertConsistent(): Promise<void> {
  const c = await checkConsistency(faults.stack);
  assert.deepEqual(c.problems, []);
}

test('the Temporal dev server restarted in the middle of workflows: they continue and complete', { timeout: 240_000 }, async (t) => {
  const { api, waitClosed } = apiClient(faults.stack);
  const target = await provisioned('tsus');
  const timerId = `timer-temporal-restart-${Date.now()}`;
  await client.workflow.start('waitForTimer', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: timerId,
    args: [{ ms: 4000, label: 'restart' }],
  });
  const ids = [timerId];
  for (let i = 0; i < 3; i++) ids.push((await api('POST', '/api/v1/accounts', accountBody('trst'))).body.workflowId);
  ids.push((await api('POST', `/api/v1/accounts/${target}/suspend`)).body.workflowId);
  assert.ok(ids.every(Boolean), JSON.stringify(ids));

  await sleep(300);
  const open = await Promise.all(ids.map(async (id) => (await client.workflow.getHandle(id).describe()).status.name));
  await faults.kill('temporal', 'SIGTERM');
  const downAt = Date.now();
  await sleep(2000);
  await faults.restart('temporal');
  t.diagnostic(
    `Temporal down for ${((Date.now() - downAt) / 1000).toFixed(1)} s; open before: ${open.filter((s) => s === 'RUNNING').length}/${ids.length}`,
  );
  assert.equal(open[0], 'RUNNING', 'the timer was running when Temporal went down');

  for (const id of ids) {
    const wf = await waitClosed(id, 150_000);
    assert.equal(wf.status, 'completed', `${id}: ${JSON.stringify(wf.error)}`);
  }
  await assertConsistent();
});

test('MariaDB stopped for 30 s: inventory activities retry and the workflows complete', { timeout: 300_000 }, async (t) => {
  const { api, waitClosed } = apiClient(faults.stack);
  const toSuspend = await provisioned('msus', false);
  const toRemove = await provisioned('mdel', false);
  // No customer database: in the embedded stack it lives in the same MariaDB, and a node service that is down
  // rolls its step back after the short forward budget (that is the PowerDNS case, not the inventory one).
  const fresh = accountBody('mnew', { database: false });
  const inventory = inventoryPool(faults.stack);
  const [[node]] = (await inventory.query('SELECT ip FROM nodes WHERE id = ?', [faults.stack.file.node.id])) as unknown as [
    { ip: string }[],
  ];
  await inventory.end();

  await faults.kill('mariadb', 'SIGTERM');
  const stoppedAt = Date.now();
  // Started straight through Temporal (as a schedule or a second API would): the API itself needs MariaDB.
  const start = async (type: string, workflowId: string, arg: unknown) => {
    await client.workflow.start(type, { taskQueue: CONTROL_TASK_QUEUE, workflowId, args: [arg] });
    return workflowId;
  };
  const ids = [
    await start('provisionAccount', workflowIds.provision(fresh.username, `m${Date.now()}`), {
      username: fresh.username,
      domain: fresh.domain,
      node: faults.stack.file.node.id,
      nodeIp: node!.ip,
      mailboxes: fresh.mailboxes,
      ftp: fresh.ftp,
      tls: false,
    }),
    await start('suspendAccount', workflowIds.suspend(toSuspend, `m${Date.now()}`), { username: toSuspend }),
    await start('deprovisionAccount', workflowIds.deprovision(toRemove, `m${Date.now()}`), { username: toRemove }),
  ];
  await sleep(30_000 - (Date.now() - stoppedAt));
  // Still running after 30 s without the inventory: they waited, they did not give up or roll back.
  for (const id of ids) assert.equal((await client.workflow.getHandle(id).describe()).status.name, 'RUNNING', id);
  await faults.restart('mariadb');
  t.diagnostic(`MariaDB down for ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`);

  for (const id of ids) {
    const wf = await waitClosed(id, 150_000);
    assert.equal(wf.status, 'completed', `${id}: ${JSON.stringify(wf.error)} ${JSON.stringify(wf.progress)}`);
  }
  const list = (await apiClient(faults.stack).listAll('/api/v1/accounts', 'accounts')) as { username: string; status: string }[];
  assert.equal(list.find((a) => a.username === fresh.username)?.status, 'active');
  assert.equal(list.find((a) => a.username === toSuspend)?.status, 'suspended');
  assert.equal(
    list.find((a) => a.username === toRemove),
    undefined,
  );
  await assertConsistent();
});

test('PowerDNS down past the retry budget during provisioning: the saga rolls back and leaves nothing', { timeout: 240_000 }, async () => {
  const { api, waitClosed, waitStep } = apiClient(faults.stack);
  const body = accountBody('pdns');
  await faults.kill('powerdns', 'SIGTERM');
  let workflowId: string;
  try {
    const res = await api('POST', '/api/v1/accounts', body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    workflowId = res.body.workflowId;
    // The dns step gives up (~3 s of retries) while PowerDNS is still down...
    await waitStep(workflowId, 'dns', ['failed'], 90_000);
  } finally {
    // ...and comes back for the undo, as a repaired server would: the rollback then leaves nothing.
    await faults.restart('powerdns');
  }
  const wf = await waitClosed(workflowId, 150_000);
  assert.equal(wf.status, 'failed');
  assert.equal(wf.error?.type, 'ProvisionRolledBack', JSON.stringify(wf.error));
  assert.match(wf.error?.message ?? '', /rolled back/);
  const inventory = inventoryPool(faults.stack);
  const admin = adminPool(faults.stack);
  try {
    const trace = await traceAccount(faults.stack, { inventory, admin }, nodePaths(faults.stack, faults.stack.file.node.id), {
      username: body.username,
      domain: body.domain,
      database: body.database!.name,
    });
    assert.deepEqual(trace, NOTHING);
  } finally {
    await inventory.end();
    await admin.end();
  }
  assert.equal((await api('GET', `/api/v1/accounts/${body.username}`)).status, 404);
  await assertConsistent();
});
