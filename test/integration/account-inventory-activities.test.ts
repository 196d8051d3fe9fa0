import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { sha512Crypt } from '../../activities/crypt-hash';
import { createInventoryActivities } from '../../activities/inventory';
import { createDb, type DbHandle } from '../../db/client';
import { createRepositories } from '../../db/repositories';
import { loadStack } from '../support/stack';
import { auditOf, inventoryPool, uniqueName } from '../support/accounts';

/**
 * The inventory activities, each run twice, against the stack's real MariaDB: the second run must change
 * nothing (a retried activity after a lost answer is the normal case in Temporal, not an edge case).
 */
const stack = loadStack();
const pool = inventoryPool(stack);
let handle: DbHandle;
let inv: ReturnType<typeof createInventoryActivities>;

before(() => {
  handle = createDb({
    host: stack.file.mysql.host,
    port: stack.file.mysql.port,
    user: 'npanel',
    password: stack.secrets.inventoryPassword,
    database: 'npanel',
  });
  inv = createInventoryActivities(createRepositories(handle.db));
});

after(async () => {
  await handle?.close();
  await pool.end();
});

/** Runs `fn` as if inside an activity of workflow `workflowId` (the activities read it from the context). */
function inWorkflow<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
  return asyncLocalStorage.run({ info: { workflowExecution: { workflowId, runId: 'r' } } } as unknown as Context, fn);
}

async function twice<T>(workflowId: string, fn: () => Promise<T>): Promise<[T, T]> {
  const first = await inWorkflow(workflowId, fn);
  const second = await inWorkflow(workflowId, fn);
  return [first, second];
}

async function rows(sql: string, params: unknown[]): Promise<unknown[]> {
  const [r] = await pool.query(sql, params);
  return r as unknown[];
}

async function owned(username: string) {
  const counts: Record<string, number> = {};
  for (const table of ['domains', 'mailboxes', 'ftp_users', 'customer_databases']) {
    counts[table] = (
      await rows(`SELECT t.id FROM ${table} t JOIN accounts a ON a.id = t.account_id WHERE a.username = ?`, [username])
    ).length;
  }
  return counts;
}

test('reserve, record, status, audit, release and remove: twice has the effect of once', async () => {
  const username = uniqueName('inv');
  const domain = `${username}.example`;
  const wf = `provision-${username}-idem`;
  const nodeId = stack.file.node.id;

  await twice(wf, () => inv.reserveAccount({ username, domain, node: nodeId }));
  assert.equal((await rows('SELECT id FROM accounts WHERE username = ?', [username])).length, 1);

  const record = {
    username,
    domain,
    docroot: `/srv/www/${username}/${domain}/public_html`,
    mailboxes: [
      { local: 'info', passwordHash: await sha512Crypt('Pw-0123456789!') },
      { local: 'sales', passwordHash: await sha512Crypt('Pw-9876543210!') },
    ],
    ftp: { passwordHash: await sha512Crypt('Ftp-0123456789!'), homeDir: `/srv/www/${username}/${domain}/public_html` },
    database: { name: `${username}_db`, user: `${username}_db` },
  };
  await twice(wf, () => inv.recordAccount(record));
  assert.deepEqual(await owned(username), { domains: 1, mailboxes: 2, ftp_users: 1, customer_databases: 1 });
  const [hash] = (await rows('SELECT password_hash AS h FROM mailboxes WHERE address = ?', [`info@${domain}`])) as { h: string }[];
  assert.match(hash!.h, /^\$6\$/, 'only a SHA512-crypt hash is stored');

  await twice(wf, () => inv.setAccountStatus({ username, status: 'active' }));
  const [first, second] = await twice(wf, () => inv.getAccount({ username }));
  assert.deepEqual(first, second);
  assert.equal(first?.status, 'active');
  assert.deepEqual(first?.mailboxes, [`info@${domain}`, `sales@${domain}`]);

  const entries = [
    { step: 'reserve', action: 'do' as const, outcome: 'ok' as const, at: new Date(Date.now() - 2000).toISOString() },
    { step: 'record', action: 'do' as const, outcome: 'ok' as const, at: new Date(Date.now() - 1000).toISOString(), details: { n: 1 } },
  ];
  await twice(wf, () => inv.appendAudit({ workflowType: 'provisionAccount', account: username, domain, entries }));
  assert.deepEqual(await auditOf(pool, wf), ['reserve:do:ok', 'record:do:ok']);

  // A workflow that does not own the row cannot release it, however often it tries.
  const [otherFirst, otherSecond] = await twice(`provision-${username}-other`, () =>
    inv.releaseAccount({ username, status: 'rolled_back' }),
  );
  assert.deepEqual([otherFirst, otherSecond], [false, false]);
  assert.equal((await rows('SELECT id FROM accounts WHERE username = ?', [username])).length, 1);

  // `failed` keeps the row (an operator must see it), `rolled_back` removes it with everything it owned.
  await twice(wf, () => inv.releaseAccount({ username, status: 'failed' }));
  assert.deepEqual(await rows('SELECT status FROM accounts WHERE username = ?', [username]), [{ status: 'failed' }]);
  const [released, releasedAgain] = await twice(wf, () => inv.releaseAccount({ username, status: 'rolled_back' }));
  assert.deepEqual([released, releasedAgain], [true, false]);
  assert.deepEqual(await rows('SELECT id FROM accounts WHERE username = ?', [username]), []);
  assert.deepEqual(await rows('SELECT id FROM domains WHERE name = ?', [domain]), []);
  assert.deepEqual(await rows('SELECT id FROM mailboxes WHERE address LIKE ?', [`%@${domain}`]), []);
  assert.deepEqual(await auditOf(pool, wf), ['reserve:do:ok', 'record:do:ok'], 'the audit trail stays');
});

test('removeAccountRecords twice removes once; reserve after a rollback takes the name again', async () => {
  const username = uniqueName('inv');
  const domain = `${username}.example`;
  const nodeId = stack.file.node.id;
  await inWorkflow(`provision-${username}-1`, () => inv.reserveAccount({ username, domain, node: nodeId }));
  await inWorkflow(`provision-${username}-1`, () => inv.recordAccount({ username, domain, docroot: '/srv/x', mailboxes: [] }));
  await twice(`deprovision-${username}-1`, () => inv.removeAccountRecords({ username }));
  assert.deepEqual(await rows('SELECT id FROM accounts WHERE username = ?', [username]), []);
  assert.deepEqual(await rows('SELECT id FROM domains WHERE name = ?', [domain]), []);

  // A second workflow may not take a name that a live account holds...
  await inWorkflow(`provision-${username}-2`, () => inv.reserveAccount({ username, domain, node: nodeId }));
  await assert.rejects(
    inWorkflow(`provision-${username}-3`, () => inv.reserveAccount({ username, domain: `x${domain}`, node: nodeId })),
    (err: Error & { type?: string }) => err.type === 'AccountConflict',
  );
  // ...and an unknown node is an input error, not something to retry.
  await assert.rejects(
    inWorkflow(`provision-${username}-4`, () => inv.reserveAccount({ username: `${username}x`, domain: `y${domain}`, node: 'nosuchnode' })),
    (err: Error & { type?: string }) => err.type === 'NodeNotFound',
  );
  await inWorkflow(`provision-${username}-2`, () => inv.removeAccountRecords({ username }));
});
