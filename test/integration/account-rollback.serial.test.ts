import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import { startAttributes } from '../../common/search-attribute-keys';
import { loadStack, stackClient } from '../support/stack';
import {
  adminPool,
  apiClient,
  auditOf,
  execFileP,
  inventoryPool,
  NOTHING,
  nodePaths,
  strongPassword,
  traceAccount,
  uniqueName,
} from '../support/accounts';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

// The record case uses a trigger rather than a REVOKE: the inventory user's INSERT is a database-level grant
// (it cannot be revoked for one table), and open sessions keep database privileges until their next USE.

/**
 * Rollback at every step of provisionAccount. Each case breaks one service FOR REAL (a planted symlink, a
 * broken nginx config, a trigger in PowerDNS's database, a file where a maildir goes, a passwd file turned
 * into a folder, a revoked MariaDB privilege, a trigger in the inventory), provisions a full account on
 * node b, and then proves nothing is left anywhere, the account does not exist (404, no row), and the audit
 * trail has the do and undo of every step. Serial: it breaks shared daemons; every break is undone in
 * `finally`.
 */
const stack = loadStack();
const { api, waitClosed, waitStep } = apiClient(stack);
const nodeB = nodePaths(stack, 'b');
const nodeA = nodePaths(stack, stack.file.node.id);
const inventory = inventoryPool(stack);
const mariadbSocket = path.join(stack.home, 'mariadb', 'run', 'mariadb.sock');
const pdnsDb = fs
  .readdirSync(path.join(stack.home, 'pdns'))
  .map((f) => path.join(stack.home, 'pdns', f))
  .find((f) => f.endsWith('.sqlite3'))!;

after(async () => {
  await inventory.end();
});

/** SQL as MariaDB's root over the socket (grants, triggers): the way an operator fixes or breaks things. */
async function asRoot(sql: string, delimiter = ';'): Promise<string> {
  const { stdout } = await execFileP('mariadb', ['--socket', mariadbSocket, `--delimiter=${delimiter}`, '-N', '-B', '-e', sql]);
  return stdout;
}

/** Global privileges are read at connect time: end the sessions of a login so its next query sees the change. */
async function killSessions(user: string): Promise<void> {
  const ids = (await asRoot(`SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '${user}'`)).split('\n').filter(Boolean);
  for (const id of ids) await asRoot(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
}

/** A trigger in PowerDNS's SQLite database that aborts the insert of this one zone; returns its removal. */
async function blockZone(domain: string): Promise<() => Promise<unknown>> {
  const trigger = `npanel_test_block_${domain.replace(/[^a-z0-9]/g, '_')}`;
  await execFileP('sqlite3', [
    pdnsDb,
    `CREATE TRIGGER ${trigger} BEFORE INSERT ON domains WHEN NEW.name = '${domain}' BEGIN SELECT RAISE(ABORT, 'blocked by test'); END;`,
  ]);
  return () => execFileP('sqlite3', [pdnsDb, `DROP TRIGGER IF EXISTS ${trigger};`]);
}

function account(prefix: string) {
  const username = uniqueName(prefix);
  return {
    username,
    domain: `${username}.example`,
    node: 'b',
    mailboxes: [{ local: 'info', password: strongPassword() }],
    ftp: { password: strongPassword() },
    database: { name: `${username}_db`, password: strongPassword() },
  };
}
type Account = ReturnType<typeof account>;

async function trace(a: Account, node = nodeB) {
  // A fresh admin pool per look: the database case kills npanel_admin's sessions, ours included.
  const admin = adminPool(stack);
  try {
    return await traceAccount(stack, { inventory, admin }, node, { username: a.username, domain: a.domain, database: a.database.name });
  } finally {
    await admin.end();
  }
}

const FORWARD = ['reserve', 'docroot', 'vhost', 'dns', 'mail', 'ftp', 'database'];

/** The workflow failed as a rollback, nothing is left, the account is gone, and the audit shows do + undo. */
async function assertRolledBack(a: Account, wf: any, failedStep: string, expectedStatus = 'failed'): Promise<void> {
  assert.equal(wf.status, expectedStatus, JSON.stringify(wf.error));
  if (expectedStatus === 'failed') assert.equal(wf.error?.type, 'ProvisionRolledBack', JSON.stringify(wf.error));
  assert.equal(wf.progress?.phase, 'rolled_back', JSON.stringify(wf.progress));
  assert.deepEqual(await trace(a), NOTHING, 'nothing left on node b');
  assert.deepEqual(await trace(a, nodeA), NOTHING, 'nothing on node a either');
  const res = await api('GET', `/api/v1/accounts/${a.username}`);
  assert.equal(res.status, 404, `a rolled-back account does not exist: ${JSON.stringify(res.body)}`);
  assert.ok(!(await apiClient(stack).listAll('/api/v1/accounts', 'accounts')).some((x: { username: string }) => x.username === a.username));

  const audit = await auditOf(inventory, wf.workflowId);
  // reserve and docroot run alone, one after the other; the five branches after them all start together.
  const registered = ['reserve', 'docroot'].includes(failedStep) ? FORWARD.slice(0, FORWARD.indexOf(failedStep) + 1) : FORWARD;
  assert.ok(audit.includes(`${failedStep}:do:failed`), `${failedStep} failed in the audit: ${audit.join(' ')}`);
  for (const step of registered) {
    if (step !== failedStep && expectedStatus === 'failed') assert.ok(audit.includes(`${step}:do:ok`), `${step} done: ${audit.join(' ')}`);
    assert.ok(audit.includes(`${step}:undo:ok`), `${step} undone: ${audit.join(' ')}`);
  }
  assert.ok(!audit.some((e) => e.endsWith(':undo:failed')), audit.join(' '));
}

async function provision(a: Account): Promise<string> {
  const res = await api('POST', '/api/v1/accounts', a);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.workflowId;
}

test('reserve: a workflow whose domain another account holds fails at reserve and touches nothing of that account', async () => {
  const owner = account('owner');
  const ownerWf = await waitClosed(await provision(owner));
  assert.equal(ownerWf.status, 'completed', JSON.stringify(ownerWf.error));
  // The API refuses this with 409; a workflow started another way (a second API instance that lost the race)
  // must refuse it too, in its own reserve step.
  const intruder = { ...account('intrud'), domain: owner.domain };
  const connection = await Connection.connect({ address: stack.file.temporal.address });
  try {
    const client = stackClient(connection, stack);
    const workflowId = `provision-${intruder.username}-direct`;
    await client.workflow.start('provisionAccount', {
      taskQueue: CONTROL_TASK_QUEUE,
      workflowId,
      args: [{ ...intruder, nodeIp: stack.file.node.ip, database: { ...intruder.database, user: intruder.database.name }, tls: false }],
      typedSearchAttributes: startAttributes({ account: intruder.username, domain: intruder.domain, node: 'b' }),
    });
    const wf = await waitClosed(workflowId);
    assert.equal(wf.status, 'failed');
    assert.match(wf.error.message, /already taken/);
    const audit = await auditOf(inventory, workflowId);
    assert.ok(audit.includes('reserve:do:failed') && audit.includes('reserve:undo:ok'), audit.join(' '));
    assert.deepEqual(
      audit.filter((e) => !e.startsWith('reserve:') && !e.endsWith(':skipped')),
      [],
      'no other step ran',
    );
    // The owner is untouched: same row, same workflow, all its resources still there.
    const held = await api('GET', `/api/v1/accounts/${owner.username}`);
    assert.equal(held.body.status, 'active');
    assert.equal(held.body.workflowId, ownerWf.workflowId);
    const t = await trace(owner);
    assert.ok(t.zone && t.vhostFile && t.docroot && t.mailDomain && t.ftpUser && t.database && t.databaseUser, JSON.stringify(t));
    assert.equal((await api('GET', `/api/v1/accounts/${intruder.username}`)).status, 404);
  } finally {
    await connection.close();
    const del = await api('DELETE', `/api/v1/accounts/${owner.username}`);
    if (del.status === 202) await waitClosed(del.body.workflowId);
  }
});

test('docroot: a symlink planted at the account folder is refused, followed by nothing, and left alone', async () => {
  const a = account('rbdoc');
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-symlink-target-'));
  const link = path.join(nodeB.nginx.webRoot, a.username);
  fs.symlinkSync(target, link);
  let wf: any;
  try {
    wf = await waitClosed(await provision(a));
    assert.deepEqual(fs.readdirSync(target), [], 'nothing was written through the symlink');
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the undo did not follow or remove what it did not make');
  } finally {
    fs.rmSync(link, { force: true });
    fs.rmSync(target, { recursive: true, force: true });
  }
  await assertRolledBack(a, wf, 'docroot');
});

test('vhost: nginx -t rejects the config on node b', async () => {
  const a = account('rbvh');
  const broken = path.join(nodeB.nginx.sitesDir, `0-broken-${a.username}.conf`);
  fs.writeFileSync(broken, 'this is not an nginx directive;\n');
  let wf: any;
  try {
    wf = await waitClosed(await provision(a));
  } finally {
    fs.rmSync(broken, { force: true });
  }
  await assertRolledBack(a, wf, 'vhost');
});

test('dns: PowerDNS refuses to store the zone (a trigger in its database)', async () => {
  const a = account('rbdns');
  const unblock = await blockZone(a.domain);
  let wf: any;
  try {
    wf = await waitClosed(await provision(a));
  } finally {
    await unblock();
  }
  await assertRolledBack(a, wf, 'dns');
});

test("mail: a regular file sits where the domain's maildir folder goes", async () => {
  const a = account('rbmail');
  const plant = path.join(nodeB.mail.vmailDir, a.domain);
  fs.writeFileSync(plant, 'not a folder\n');
  let wf: any;
  try {
    wf = await waitClosed(await provision(a));
  } finally {
    fs.rmSync(plant, { force: true });
  }
  await assertRolledBack(a, wf, 'mail');
});

test("ftp: node b's passwd file is unusable (a folder) until an operator restores it", async () => {
  const a = account('rbftp');
  const passwd = nodeB.ftp.passwdFile;
  const saved = `${passwd}.saved-by-test`;
  fs.renameSync(passwd, saved);
  fs.mkdirSync(passwd);
  const restore = () => {
    if (fs.existsSync(saved)) {
      fs.rmSync(passwd, { recursive: true, force: true });
      fs.renameSync(saved, passwd);
    }
  };
  let wf: any;
  try {
    const id = await provision(a);
    // The undo (removeFtpUser) needs the file too: it keeps retrying until the operator puts it back.
    await waitStep(id, 'ftp', ['failed']);
    restore();
    wf = await waitClosed(id);
  } finally {
    restore();
  }
  await assertRolledBack(a, wf, 'ftp');
});

test('database: npanel_admin may not create users (CREATE USER and INSERT revoked)', async () => {
  const a = account('rbdb');
  const admin = `'npanel_admin'@'127.0.0.1'`;
  await asRoot(`REVOKE CREATE USER, INSERT ON *.* FROM ${admin}`);
  await killSessions('npanel_admin');
  let wf: any;
  try {
    wf = await waitClosed(await provision(a));
  } finally {
    await asRoot(`GRANT CREATE USER, INSERT ON *.* TO ${admin}`);
    await killSessions('npanel_admin');
  }
  await assertRolledBack(a, wf, 'database');
});

test('record: the inventory refuses the mailbox row (a trigger on npanel.mailboxes)', async () => {
  const a = account('rbrec');
  const trigger = `npanel_test_block_${a.username}`;
  await asRoot(
    `CREATE TRIGGER npanel.${trigger} BEFORE INSERT ON npanel.mailboxes FOR EACH ROW ` +
      `IF NEW.address = 'info@${a.domain}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'blocked by test'; END IF`,
    '//', // the trigger body holds a ';'
  );
  let wf: any;
  try {
    // Inventory steps retry for ~1.5 min before giving up (activity-proxies.ts: they wait out a failover).
    wf = await waitClosed(await provision(a), 180_000);
  } finally {
    await asRoot(`DROP TRIGGER IF EXISTS npanel.${trigger}`);
  }
  await assertRolledBack(a, wf, 'record');
  // The domain row the record step wrote before it failed went with the account.
  const [rows] = await inventory.query('SELECT id FROM domains WHERE name = ?', [a.domain]);
  assert.deepEqual(rows, []);
});

test('cancel: cancelling a provisioning while a step retries rolls everything back', async () => {
  const a = account('rbcan');
  const unblock = await blockZone(a.domain);
  let wf: any;
  try {
    const id = await provision(a);
    await waitStep(id, 'database', ['done']);
    await waitStep(id, 'dns', ['running']);
    const cancel = await api('POST', `/api/v1/workflows/${id}/cancel`);
    assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
    wf = await waitClosed(id);
  } finally {
    await unblock();
  }
  await assertRolledBack(a, wf, 'dns', 'cancelled');
});
