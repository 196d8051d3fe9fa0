import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import mysql from 'mysql2/promise';
import { createMysqlActivities } from '../../activities/mysql';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();
const { host, port } = stack.file.mysql;
const { activities: db, close } = createMysqlActivities({ host, port, user: 'npanel_admin', password: stack.secrets.mysqlAdminPassword });
const run = crypto.randomBytes(3).toString('hex');
const made: { database: string; user: string }[] = [];
function names(label: string) {
  const n = { database: `t${run}_${label}`, user: `u${run}_${label}`, password: crypto.randomBytes(12).toString('base64url') };
  made.push(n);
  return n;
}
after(async () => {
  for (const n of made) await db.dropCustomerDatabase(n);
  await close();
});

function login(user: string, password: string) {
  return mysql.createConnection({ host, port, user, password, connectTimeout: 3000 });
}
async function showDatabases(user: string, password: string): Promise<string[]> {
  const conn = await login(user, password);
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW DATABASES');
    return rows.map((r) => r.Database as string).sort();
  } finally {
    await conn.end();
  }
}
async function adminQuery<T extends mysql.RowDataPacket[]>(sql: string, values: unknown[] = []): Promise<T> {
  const conn = await login('npanel_admin', stack.secrets.mysqlAdminPassword);
  try {
    return (await conn.query<T>(sql, values))[0];
  } finally {
    await conn.end();
  }
}
function isInvalidName(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'MysqlInvalidName' && err.nonRetryable === true;
}

test('the customer logs in over 127.0.0.1 and sees only its own database; twice is the same as once', async () => {
  const n = names('site');
  await db.ensureCustomerDatabase(n);
  await db.ensureCustomerDatabase(n);
  assert.deepEqual(await showDatabases(n.user, n.password), [n.database, 'information_schema'].sort());
  // The mariadb CLI, as a customer would use it (password through the environment, not argv).
  const { stdout } = await execFileP(
    'mariadb',
    [
      '--protocol=TCP',
      '-h',
      host,
      '-P',
      String(port),
      '-u',
      n.user,
      '-N',
      '-B',
      '-e',
      `CREATE TABLE t (id INT); INSERT INTO t VALUES (7); SELECT id FROM t`,
      n.database,
    ],
    { env: { ...process.env, MYSQL_PWD: n.password } },
  );
  assert.equal(stdout.trim(), '7');
  const users = await adminQuery('SELECT Host FROM mysql.global_priv WHERE User = ?', [n.user]);
  assert.deepEqual(
    users.map((u) => u.Host),
    ['%'],
  );
  // The grant is on its database only: another database stays out of reach.
  const conn = await login(n.user, n.password);
  await assert.rejects(conn.query('CREATE DATABASE `other_' + run + '`'), /denied/i);
  await conn.end();
});

test('running again with a new password switches the password and keeps the data', async () => {
  const n = names('pw');
  await db.ensureCustomerDatabase(n);
  const c1 = await login(n.user, n.password);
  await c1.query(`CREATE TABLE \`${n.database}\`.keep (id INT)`);
  await c1.end();
  const newPassword = crypto.randomBytes(12).toString('base64url');
  await db.ensureCustomerDatabase({ ...n, password: newPassword });
  await assert.rejects(login(n.user, n.password), (e: { code?: string }) => e.code === 'ER_ACCESS_DENIED_ERROR');
  const c2 = await login(n.user, newPassword);
  const [tables] = await c2.query<mysql.RowDataPacket[]>(`SHOW TABLES FROM \`${n.database}\``);
  assert.equal(tables.length, 1);
  await c2.end();
});

test('locking refuses logins and ends open sessions; unlocking restores access', async () => {
  const n = names('lock');
  await db.ensureCustomerDatabase(n);
  const open = await login(n.user, n.password);
  assert.deepEqual(await db.setCustomerDatabaseLocked({ user: n.user, locked: true }), { user: n.user, locked: true, exists: true });
  await assert.rejects(login(n.user, n.password), (e: { code?: string; message?: string }) => /locked/i.test(String(e.message)));
  await assert.rejects(open.query('SELECT 1'));
  open.destroy();
  await db.setCustomerDatabaseLocked({ user: n.user, locked: true }); // twice is fine
  await db.setCustomerDatabaseLocked({ user: n.user, locked: false });
  assert.deepEqual(await showDatabases(n.user, n.password), [n.database, 'information_schema'].sort());
  assert.equal((await db.setCustomerDatabaseLocked({ user: `${n.user}x`, locked: true })).exists, false);
});

test('drop removes the database and the login; dropping again is fine', async () => {
  const n = names('drop');
  await db.ensureCustomerDatabase(n);
  await db.dropCustomerDatabase(n);
  // MariaDB answers a dropped login with 1045 or, on some paths, 1698: either way "Access denied".
  await assert.rejects(
    login(n.user, n.password),
    (e: { code?: string; message?: string }) => /^Access denied for user/.test(e.message ?? '') || e.code === 'ER_ACCESS_DENIED_ERROR',
  );
  const dbs = await adminQuery('SHOW DATABASES LIKE ?', [n.database]);
  assert.equal(dbs.length, 0);
  await db.dropCustomerDatabase(n);
});

test('invalid or reserved names fail for good before any SQL runs', async () => {
  const password = 'long-enough-password';
  for (const database of ['mysql', 'npanel', 'Upper', '1abc', 'a`b', 'a-b', 'x'.repeat(33), "a'; DROP DATABASE npanel; --"]) {
    await assert.rejects(db.ensureCustomerDatabase({ database, user: `u${run}_ok`, password }), isInvalidName, database);
  }
  for (const user of ['root', 'npanel_admin', 'a b', "a'@'%", 'u'.repeat(33)]) {
    await assert.rejects(db.ensureCustomerDatabase({ database: `t${run}_ok`, user, password }), isInvalidName, user);
    await assert.rejects(db.setCustomerDatabaseLocked({ user, locked: true }), isInvalidName, user);
  }
  const users = await adminQuery('SELECT User FROM mysql.global_priv WHERE User = ?', [`u${run}_ok`]);
  assert.equal(users.length, 0);
});

test('a login that already holds another database is never taken over, and its undo leaves that login alone', async () => {
  const first = names('own');
  await db.ensureCustomerDatabase(first);
  const intruder = { database: `t${run}_grab`, user: first.user, password: crypto.randomBytes(12).toString('base64url') };
  made.push({ database: intruder.database, user: `u${run}_none` });
  await assert.rejects(
    db.ensureCustomerDatabase(intruder),
    (err: unknown) => err instanceof ApplicationFailure && err.type === 'MysqlUserTaken' && err.nonRetryable === true,
  );
  // The saga's undo of the refused step runs dropCustomerDatabase with the same names.
  await db.dropCustomerDatabase({ database: intruder.database, user: intruder.user });
  assert.deepEqual(await showDatabases(first.user, first.password), [first.database, 'information_schema'].sort());
});

test('underscores in a database name are not wildcards: the user of a_b gets no access to aXb', async () => {
  const n = names('wild');
  await db.ensureCustomerDatabase(n);
  const lookalike = n.database.replace(/_wild$/, 'xwild');
  await adminQuery(`CREATE DATABASE IF NOT EXISTS \`${lookalike}\``);
  try {
    assert.deepEqual(await showDatabases(n.user, n.password), [n.database, 'information_schema'].sort());
  } finally {
    await adminQuery(`DROP DATABASE IF EXISTS \`${lookalike}\``);
  }
});
