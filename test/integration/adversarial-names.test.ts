import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import mysql from 'mysql2/promise';
import { migrateSiteBody, type MigrateSiteInput } from '../../common/migration-input';
import type { ProvisionAccountInput } from '../../common/account-input';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import {
  adminPool,
  apiClient,
  dig,
  dbLogin,
  httpGet,
  inventoryPool,
  nodePaths,
  pdnsZones,
  strongPassword,
  uniqueName,
} from '../support/accounts';
import { loadStack, stackClient } from '../support/stack';
import { migrationBody } from './migration-helpers';

/**
 * Issue 11, findings 2 and 6, tried as an attacker would: real requests through the API (and, for the races
 * past the API, workflows started straight on Temporal), then checked with the clients a user has: `dig`,
 * nginx with a Host header, a MariaDB login with the victim's own password.
 */
const stack = loadStack();
const { api, waitClosed } = apiClient(stack);
const inventory = inventoryPool(stack);
const admin = adminPool(stack);
const nodeA = nodePaths(stack, 'a');
const made: string[] = [];
let connection: Connection;

before(async () => {
  connection = await Connection.connect({ address: stack.file.temporal.address });
});

after(async () => {
  for (const username of made) {
    const del = await api('DELETE', `/api/v1/accounts/${username}`);
    if (del.status === 202) await waitClosed(del.body.workflowId, 120_000).catch(() => undefined);
  }
  await connection?.close();
  await inventory.end();
  await admin.end();
});

async function provision(body: Record<string, unknown>): Promise<void> {
  const res = await api('POST', '/api/v1/accounts', body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  made.push(body.username as string);
  const wf = await waitClosed(res.body.workflowId, 120_000);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
}

/** Workflows started for this account or domain since `since` (none may exist after a 409). */
async function workflowsFor(value: string, since: Date): Promise<string[]> {
  const res = await api('GET', `/api/v1/workflows?limit=200`);
  return (res.body.workflows ?? [])
    .filter(
      (w: { startedAt: string; account: string | null; domain: string | null }) =>
        new Date(w.startedAt) >= since && (w.account === value || w.domain === value),
    )
    .map((w: { workflowId: string }) => w.workflowId);
}

function assertConflict(res: { status: number; body: any }, field: string): void {
  assert.equal(res.status, 409, JSON.stringify(res.body));
  assert.equal(res.body.error, 'conflict');
  assert.ok(
    (res.body.details ?? []).some((d: { field: string }) => d.field === field),
    JSON.stringify(res.body.details),
  );
}

test("finding 6: a domain inside another account's domain, or above it, is a 409 by provisioning and by migration; DNS and nginx still answer for the owner", async () => {
  const alice = uniqueName('alice');
  const domain = `${alice}.test`;
  await provision({ username: alice, domain });
  const since = new Date();

  const hank = uniqueName('hank');
  for (const name of [`www.${domain}`, `shop.${domain}`, `a.b.${domain}`, domain]) {
    assertConflict(await api('POST', '/api/v1/accounts', { username: hank, domain: name }), 'body.domain');
    assertConflict(await api('POST', '/api/v1/migrations', migrationBody(stack, { account: hank, domain: name })), 'body.domain');
  }
  assert.deepEqual(await workflowsFor(hank, since), [], 'no workflow may start for hank');
  const [rows] = await inventory.query('SELECT username FROM accounts WHERE username = ?', [hank]);
  assert.deepEqual(rows, []);

  // What a user checks: the names under alice's domain still answer from alice's zone and alice's vhost.
  const zones = await pdnsZones(stack);
  assert.ok(zones.includes(`${domain}.`));
  assert.ok(
    !zones.includes(`www.${domain}.`) && !zones.includes(`shop.${domain}.`),
    `no zone inside alice's: ${zones.filter((z) => z.endsWith(`${domain}.`))}`,
  );
  const www = await dig(stack, `www.${domain}`, 'A');
  assert.equal(www.status, 'NOERROR');
  assert.deepEqual(www.answers, [stack.file.node.ip]);
  const shop = await dig(stack, `shop.${domain}`, 'SOA');
  assert.equal(shop.status, 'NXDOMAIN', "shop.<alice> is not a zone of its own (the answer comes from alice's zone)");
  const site = await httpGet(nodeA.ports.nginx.http, domain);
  assert.equal(site.status, 200);
  const wwwSite = await httpGet(nodeA.ports.nginx.http, `www.${domain}`);
  assert.equal(wwwSite.body, site.body, "nginx serves alice's site for www.<alice>");
});

test("finding 6, the reverse: a parent of another account's domain is a 409 (shop.bob.test held → bob.test refused)", async () => {
  const owner = uniqueName('shopo');
  const parent = `${uniqueName('bob')}.test`;
  await provision({ username: owner, domain: `shop.${parent}` });
  const other = uniqueName('bob');
  assertConflict(await api('POST', '/api/v1/accounts', { username: other, domain: parent }), 'body.domain');
  assertConflict(await api('POST', '/api/v1/migrations', migrationBody(stack, { account: other, domain: parent })), 'body.domain');
  assert.ok(!(await pdnsZones(stack)).includes(`${parent}.`));
  const [rows] = await inventory.query('SELECT username FROM accounts WHERE username = ?', [other]);
  assert.deepEqual(rows, []);
});

test('finding 6, two requests at once: of alice.test and www.alice.test for two accounts exactly one is accepted', async () => {
  const base = `${uniqueName('race')}.test`;
  const [a, b] = [uniqueName('racea'), uniqueName('raceb')];
  const [ra, rb] = await Promise.all([
    api('POST', '/api/v1/accounts', { username: a, domain: base }),
    api('POST', '/api/v1/accounts', { username: b, domain: `www.${base}` }),
  ]);
  const statuses = [ra.status, rb.status].sort();
  assert.deepEqual(statuses, [202, 409], `${JSON.stringify(ra.body)} ${JSON.stringify(rb.body)}`);
  const winner = ra.status === 202 ? ra : rb;
  made.push(ra.status === 202 ? a : b);
  assert.equal((await waitClosed(winner.body.workflowId, 120_000)).status, 'completed');
});

test('finding 6 past the API: a provisioning started straight on Temporal for www.<alice> fails at reserve and touches nothing', async () => {
  const alice = uniqueName('alice');
  const domain = `${alice}.test`;
  await provision({ username: alice, domain });
  const hank = uniqueName('hank');
  const client = stackClient(connection, stack);
  const input: ProvisionAccountInput = {
    username: hank,
    domain: `www.${domain}`,
    node: 'a',
    nodeIp: stack.file.node.ip,
    mailboxes: [],
    tls: false,
  };
  const handle = await client.workflow.start('provisionAccount', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: `provision-${hank}-direct`,
    args: [input],
  });
  await assert.rejects(handle.result());
  const wf = await waitClosed(handle.workflowId);
  assert.match(wf.error?.message ?? '', /alice|www\./, JSON.stringify(wf.error));
  assert.ok(!(await pdnsZones(stack)).includes(`www.${domain}.`));
  assert.deepEqual((await dig(stack, `www.${domain}`, 'A')).answers, [stack.file.node.ip]);
  const [rows] = await inventory.query('SELECT username FROM accounts WHERE username = ?', [hank]);
  assert.deepEqual(rows, []);
});

/** dave owns `<eve>_shop` (a table with a row, reachable with his own password): the target of the takeover. */
async function daveWithEvesName(eve: string, dbName: string, dbUser?: string) {
  const dave = uniqueName('dave');
  const password = strongPassword();
  await provision({ username: dave, domain: `${dave}.test`, database: { name: dbName, ...(dbUser ? { user: dbUser } : {}), password } });
  const login = dbUser ?? dbName;
  const conn = await mysql.createConnection({
    host: stack.file.mysql.host,
    port: stack.file.mysql.port,
    user: login,
    password,
    database: dbName,
  });
  await conn.query('CREATE TABLE ledger (id INT PRIMARY KEY, note VARCHAR(40))');
  await conn.query("INSERT INTO ledger VALUES (1, 'dave-only')");
  await conn.end();
  return { dave, password, login };
}

/** What dave checks: he still logs in with his password, sees his database, his row, and none of eve's tables. */
async function assertDaveIntact(dbName: string, login: string, password: string): Promise<void> {
  const seen = await dbLogin(stack, login, password);
  assert.ok(seen.ok, `dave's login ${login} must still work with his password: ${JSON.stringify(seen)}`);
  assert.ok(seen.databases.includes(dbName));
  const conn = await mysql.createConnection({
    host: stack.file.mysql.host,
    port: stack.file.mysql.port,
    user: login,
    password,
    database: dbName,
  });
  try {
    const [tables] = await conn.query<mysql.RowDataPacket[]>('SHOW TABLES');
    assert.deepEqual(
      tables.map((t) => Object.values(t)[0]),
      ['ledger'],
      "no table of the source mixed into dave's database",
    );
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT note FROM ledger');
    assert.deepEqual(
      rows.map((r) => r.note),
      ['dave-only'],
    );
  } finally {
    await conn.end();
  }
}

test("finding 2: migrating eve's `shop` when dave owns `<eve>_shop` (as database or as login) is a 409 before any workflow; dave keeps his login and data", async () => {
  const eve = uniqueName('eve');
  const target = `${eve}_shop`;
  const { password, login } = await daveWithEvesName(eve, target);
  const since = new Date();
  assertConflict(
    await api('POST', '/api/v1/migrations', migrationBody(stack, { account: eve, domain: `${eve}.test`, databases: ['shop'] })),
    'body.source.databases',
  );
  assert.deepEqual(await workflowsFor(eve, since), []);
  await assertDaveIntact(target, login, password);

  // The same name as dave's LOGIN (his database is called otherwise).
  const eve2 = uniqueName('eve');
  const d2 = await daveWithEvesName(eve2, `${uniqueName('dv')}_db`, `${eve2}_shop`);
  assertConflict(
    await api('POST', '/api/v1/migrations', migrationBody(stack, { account: eve2, domain: `${eve2}.test`, databases: ['shop'] })),
    'body.source.databases',
  );
  const seen = await dbLogin(stack, d2.login, d2.password);
  assert.ok(seen.ok, JSON.stringify(seen));
});

test("finding 2 past the API: a migration started straight on Temporal meets dave's database, fails without touching it, and its rollback drops nothing of dave's", async () => {
  const eve = uniqueName('eve');
  const target = `${eve}_shop`;
  const { password, login } = await daveWithEvesName(eve, target);
  const client = stackClient(connection, stack);
  const body = migrateSiteBody.parse(migrationBody(stack, { account: eve, domain: `${eve}.test`, databases: ['shop'] }));
  const input: MigrateSiteInput = {
    domain: body.domain,
    account: body.account,
    node: 'a',
    nodeIp: stack.file.node.ip,
    cutover: body.cutover,
    source: body.source,
  };
  made.push(eve);
  const handle = await client.workflow.start('migrateSite', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: `migrate-${eve}-direct`,
    args: [input],
  });
  await assert.rejects(handle.result());
  const wf = await waitClosed(handle.workflowId, 180_000);
  assert.match(wf.error?.message ?? '', /rolled back: .*database.* belongs to account dave/, JSON.stringify(wf.error));
  const steps = wf.progress.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`);
  assert.ok(steps.includes('databases:failed'), steps.join(' '));
  await assertDaveIntact(target, login, password);
  const [claims] = await inventory.query('SELECT account FROM name_claims WHERE kind = ? AND name = ?', ['database', target]);
  assert.deepEqual(
    (claims as { account: string }[]).map((c) => c.account.slice(0, 4)),
    ['dave'],
    "the name stays dave's",
  );
  const [grants] = await admin.query('SELECT User FROM mysql.global_priv WHERE User = ?', [login]);
  assert.ok((grants as unknown[]).length >= 1, "dave's login still exists");
});

test("names are owned: a provisioning that names another account's database login is a 409 naming the field, and nothing is claimed", async () => {
  const eve = uniqueName('eve');
  const dbName = `${eve}_shop`;
  const { password, login } = await daveWithEvesName(eve, dbName);
  const mallory = uniqueName('mal');
  assertConflict(
    await api('POST', '/api/v1/accounts', {
      username: mallory,
      domain: `${mallory}.test`,
      database: { name: `${mallory}_x`, user: login, password: strongPassword() },
    }),
    'body.database.user',
  );
  const [claims] = await inventory.query('SELECT kind, name FROM name_claims WHERE account = ?', [mallory]);
  assert.deepEqual(claims, [], 'all or nothing: not even the free domain stays claimed');
  const [rows] = await inventory.query('SELECT username FROM accounts WHERE username = ?', [mallory]);
  assert.deepEqual(rows, []);
  assert.ok((await dbLogin(stack, login, password)).ok);
});

test('names are owned, and given back: a migration that rolls back (wrong host key) leaves no claim, so the domain is free again', async () => {
  const eve = uniqueName('eve');
  const domain = `${eve}.test`;
  const res = await api(
    'POST',
    '/api/v1/migrations',
    migrationBody(stack, { account: eve, domain, databases: ['shop'], fingerprint: `SHA256:${'A'.repeat(43)}` }),
  );
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const wf = await waitClosed(res.body.workflowId, 180_000);
  assert.match(wf.error?.message ?? '', /rolled back/, JSON.stringify(wf.error));
  const [claims] = await inventory.query('SELECT kind, name FROM name_claims WHERE account = ?', [eve]);
  assert.deepEqual(claims, []);
  const other = uniqueName('frank');
  await provision({ username: other, domain });
  assert.equal((await httpGet(nodeA.ports.nginx.http, domain)).status, 200);
});

test("names are owned past the API: a provisioning started straight on Temporal naming dave's database fails at reserve, and its rollback leaves dave's database", async () => {
  const eve = uniqueName('eve');
  const dbName = `${eve}_shop`;
  const { password, login } = await daveWithEvesName(eve, dbName);
  const mallory = uniqueName('mal');
  const client = stackClient(connection, stack);
  const input: ProvisionAccountInput = {
    username: mallory,
    domain: `${mallory}.test`,
    node: 'a',
    nodeIp: stack.file.node.ip,
    mailboxes: [],
    tls: false,
    database: { name: dbName, user: login, password: strongPassword() },
  };
  const handle = await client.workflow.start('provisionAccount', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: `provision-${mallory}-direct`,
    args: [input],
  });
  await assert.rejects(handle.result());
  const wf = await waitClosed(handle.workflowId);
  assert.match(wf.error?.message ?? '', /belongs to account dave/, JSON.stringify(wf.error));
  await assertDaveIntact(dbName, login, password);
  assert.ok(!(await pdnsZones(stack)).includes(`${mallory}.test.`), 'nothing was made for mallory');
});

test("names are given back on deprovisioning: once alice is deleted, another account may take www.<alice's old domain>", async () => {
  const alice = uniqueName('alice');
  const domain = `${alice}.test`;
  await provision({ username: alice, domain });
  const del = await api('DELETE', `/api/v1/accounts/${alice}`);
  assert.equal(del.status, 202);
  assert.equal((await waitClosed(del.body.workflowId, 120_000)).status, 'completed');
  const [claims] = await inventory.query('SELECT kind, name FROM name_claims WHERE account = ?', [alice]);
  assert.deepEqual(claims, []);
  const hank = uniqueName('hank');
  await provision({ username: hank, domain: `www.${domain}` });
  assert.equal((await httpGet(nodeA.ports.nginx.http, `www.${domain}`)).status, 200);
});
