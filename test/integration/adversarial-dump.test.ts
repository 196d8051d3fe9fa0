import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { importLoginName, withImportLogin } from '../../activities/mysql-import-login';
import { sshConnect } from '../../activities/ssh-connect';
import { loadStack } from '../support/stack';
import { adminApi, finished, migrationBody, rand } from './migration-helpers';

/**
 * Issue 11, finding 1: a migration source whose dump program appends hostile SQL. The source's `mysqldump` is
 * replaced (for databases named advdump…, through ~/.bashrc's PATH in the source home) by a script that runs the
 * real one and appends a file this test writes. Everything is checked as a MariaDB client would see it.
 */

const stack = loadStack();
const api = adminApi(stack);
const sourceHome = path.join(stack.home, 'source', 'home');
const binDir = path.join(sourceHome, 'advdump-bin');
const hostileDir = path.join(sourceHome, 'advdump-hostile');
const bashrc = path.join(sourceHome, '.bashrc');
const PATH_LINE = `PATH="${binDir}:$PATH" # adversarial-dump.test.ts`;
const sourceDbs: string[] = [];
let admin: mysql.Connection;
let bashrcBefore: string | null = null;

// Real output first (minus its trailer), then the hostile text, then a trailer: the dump looks complete.
const WRAPPER = `#!/bin/bash
db="\${!#}"
case "$db" in
  advdump*)
    /usr/bin/mysqldump "$@" | grep -v '^-- Dump completed' || exit 1
    cat "${hostileDir}/$db.sql"
    echo "-- Dump completed on 2026-12-07  0:00:00"
    ;;
  *) exec /usr/bin/mysqldump "$@" ;;
esac
`;

function chownToSource(file: string): void {
  const st = fs.statSync(sourceHome);
  fs.chownSync(file, st.uid, st.gid);
}

before(async () => {
  admin = await mysql.createConnection({
    host: '127.0.0.1',
    port: stack.file.mysql.port,
    user: 'npanel_admin',
    password: stack.secrets.mysqlAdminPassword,
  });
  for (const d of [binDir, hostileDir]) {
    fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    chownToSource(d);
  }
  fs.writeFileSync(path.join(binDir, 'mysqldump'), WRAPPER, { mode: 0o755 });
  bashrcBefore = fs.existsSync(bashrc) ? fs.readFileSync(bashrc, 'utf8') : null;
  if (!bashrcBefore?.includes(PATH_LINE)) fs.writeFileSync(bashrc, `${PATH_LINE}\n${bashrcBefore ?? ''}`);
  chownToSource(bashrc);
  // The hostile program must really be the one the worker runs, or every test below proves nothing.
  const s = stack.file.migrationSource;
  const session = await sshConnect({
    host: s.host,
    port: s.port,
    user: s.user,
    privateKey: fs.readFileSync(s.privateKey, 'utf8'),
    hostKeyFingerprint: s.hostKeyFingerprint,
  });
  try {
    const which = await session.exec('command -v mysqldump');
    assert.equal(which.stdout.toString('utf8').trim(), path.join(binDir, 'mysqldump'), 'the source runs the hostile mysqldump');
  } finally {
    session.end();
  }
});

after(async () => {
  if (bashrcBefore === null) fs.rmSync(bashrc, { force: true });
  else fs.writeFileSync(bashrc, bashrcBefore);
  fs.rmSync(binDir, { recursive: true, force: true });
  fs.rmSync(hostileDir, { recursive: true, force: true });
  for (const db of sourceDbs) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await admin.end();
});

/** A small real source database (3 rows) the source login may dump, and the hostile text its dump ends with. */
async function hostileSource(hostile: string, objects: string[] = []): Promise<string> {
  const db = `advdump${rand().slice(0, 6)}`;
  sourceDbs.push(db);
  await admin.query(`CREATE DATABASE \`${db}\``);
  await admin.query(`CREATE TABLE \`${db}\`.items (id INT PRIMARY KEY, name VARCHAR(40), price INT NOT NULL DEFAULT 0)`);
  await admin.query(`INSERT INTO \`${db}\`.items (id, name) VALUES (1, 'Thé 🍵'), (2, 'b'), (3, 'c ? it''s')`);
  for (const sql of objects) await admin.query(sql.replaceAll('$DB', db));
  await admin.query(`GRANT SELECT, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT ON \`${db}\`.* TO ?@?`, ['npanelsrc', '127.0.0.1']);
  const file = path.join(hostileDir, `${db}.sql`);
  fs.writeFileSync(file, hostile.replaceAll('$DB', db), { mode: 0o644 });
  chownToSource(file);
  return db;
}

async function migrate(db: string) {
  const account = `d${rand()}`;
  const res = await api('/api/v1/migrations', {
    method: 'POST',
    body: migrationBody(stack, { account, domain: `${account}.test`, databases: [db] }),
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const w = await finished(api, res.body.workflowId);
  return { w, account, target: `${account}_${db}` };
}

async function count(sql: string, values: unknown[]): Promise<number> {
  const [[row]] = await admin.query<mysql.RowDataPacket[]>(sql, values);
  return Number(row!.n);
}

const userExists = (user: string) => count('SELECT COUNT(*) AS n FROM mysql.global_priv WHERE User = ?', [user]);
const databaseExists = (db: string) => count('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db]);

function assertRefused(w: { status: string; error?: { message: string } }, kind: RegExp, secrets: string[]) {
  assert.equal(w.status, 'failed', JSON.stringify(w));
  assert.match(w.error!.message, kind);
  for (const s of secrets) assert.ok(!JSON.stringify(w).includes(s), `the workflow's status shows ${s}`);
}

test('a dump that appends CREATE USER … GRANT ALL ON *.* fails the migration; no such user exists', async () => {
  const user = `advpwned${rand()}`;
  const secret = `hunter2-${rand()}`;
  const db = await hostileSource(
    `CREATE USER '${user}'@'%' IDENTIFIED BY '${secret}';\nGRANT ALL PRIVILEGES ON *.* TO '${user}'@'%' WITH GRANT OPTION;\n`,
  );
  const { w, target } = await migrate(db);
  assertRefused(w, /CREATE USER statement refused/, [secret]);
  assert.equal(await userExists(user), 0, 'the hostile user was not created');
  assert.equal(await userExists(importLoginName(target)), 0, 'the import login is gone');
  assert.equal(await databaseExists(target), 0, 'the rollback dropped the half-imported database');
  // And a real login with the hostile password is refused by the server itself.
  await assert.rejects(mysql.createConnection({ host: '127.0.0.1', port: stack.file.mysql.port, user, password: secret }), /Access denied/);
});

test('a dump that appends CREATE DATABASE fails the migration; no such database exists', async () => {
  const evil = `advpwneddb${rand()}`;
  const db = await hostileSource(`/*!40000 CREATE DATABASE IF NOT EXISTS \`${evil}\` */;\n`);
  const { w } = await migrate(db);
  assertRefused(w, /CREATE DATABASE statement refused/, []);
  assert.equal(await databaseExists(evil), 0);
});

test('a dump that appends INSERT INTO npanel.api_tokens fails the migration; no token exists, none works', async () => {
  const token = `npa_${crypto.randomBytes(32).toString('base64url')}`;
  const hash = crypto.createHash('sha256').update(token).digest('hex');
  const label = `advpwned-${rand()}`;
  const db = await hostileSource(
    `INSERT INTO npanel.api_tokens (token_hash, role, label, created_at) VALUES ('${hash}', 'admin', '${label}', NOW());\n`,
  );
  const { w } = await migrate(db);
  assertRefused(w, /statement touching the npanel database refused/, [hash, label]);
  assert.equal(await count('SELECT COUNT(*) AS n FROM npanel.api_tokens WHERE token_hash = ? OR label = ?', [hash, label]), 0);
  const res = await fetch(`${stack.file.api}/api/v1/accounts`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 401, 'the token the source tried to plant does not log in');
});

test('root DEFINERs of a view, trigger and procedure are imported as the account user; the site data arrives', async () => {
  const proc = `DELIMITER ;;\nCREATE DEFINER=\`root\`@\`localhost\` PROCEDURE \`bump\`()\nBEGIN\n  UPDATE items SET price = price + 1;\nEND ;;\nDELIMITER ;\n`;
  const db = await hostileSource(proc, [
    'CREATE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `$DB`.`cheap` AS SELECT id, name FROM `$DB`.items WHERE price < 5',
    'CREATE DEFINER=`root`@`localhost` TRIGGER `$DB`.`items_bi` BEFORE INSERT ON `$DB`.items FOR EACH ROW SET NEW.price = NEW.price + 10',
  ]);
  const { w, target } = await migrate(db);
  assert.equal(w.status, 'completed', JSON.stringify(w.error ?? w.progress?.errors));
  const [defs] = await admin.query<mysql.RowDataPacket[]>(
    `SELECT 'view' AS kind, DEFINER AS definer FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
     UNION ALL SELECT 'trigger', DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
     UNION ALL SELECT 'procedure', DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1`,
    [target, target, target],
  );
  assert.deepEqual(
    defs.map((r) => [r.kind, r.definer]),
    [
      ['procedure', `${target}@%`],
      ['trigger', `${target}@%`],
      ['view', `${target}@%`],
    ],
  );
  const [[view]] = await admin.query<mysql.RowDataPacket[]>(`SHOW CREATE VIEW \`${target}\`.\`cheap\``);
  assert.match(String(view!['Create View']), new RegExp(`DEFINER=\`${target}\`@\`%\``));
  assert.doesNotMatch(String(view!['Create View']), /root|`advdump/, 'no root definer and no reference to the source database name');
  const [[trigger]] = await admin.query<mysql.RowDataPacket[]>(`SHOW CREATE TRIGGER \`${target}\`.\`items_bi\``);
  assert.match(String(trigger!['SQL Original Statement']), new RegExp(`DEFINER=\`${target}\`@\`%\``));
  // The data came over byte for byte, and the objects work as the account's user (it exists: they run).
  const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT id, name FROM \`${target}\`.\`cheap\` ORDER BY id`);
  assert.deepEqual(
    rows.map((r) => [r.id, r.name]),
    [
      [1, 'Thé 🍵'],
      [2, 'b'],
      [3, "c ? it's"],
    ],
  );
  await admin.query(`INSERT INTO \`${target}\`.items (id, name) VALUES (4, 'd')`);
  await admin.query(`CALL \`${target}\`.\`bump\`()`);
  const [[d]] = await admin.query<mysql.RowDataPacket[]>(`SELECT price FROM \`${target}\`.items WHERE id = 4`);
  assert.equal(d!.price, 11, 'the trigger (as the account user) and the procedure ran');
  assert.equal(await userExists(importLoginName(target)), 0, 'the import login is gone');
});

test('the import login reaches the target database only: npanel, mysql, users and databases are denied by the server', async () => {
  const target = `advlogin${rand().slice(0, 6)}`;
  sourceDbs.push(target);
  await admin.query(`CREATE DATABASE \`${target}\``);
  const admincfg = { host: '127.0.0.1', port: stack.file.mysql.port, user: 'npanel_admin', password: stack.secrets.mysqlAdminPassword };
  await withImportLogin(admincfg, target, async (login) => {
    const conn = await mysql.createConnection({ ...login, database: target });
    try {
      await conn.query('CREATE TABLE t (a INT)');
      await conn.query('INSERT INTO t VALUES (1)');
      await assert.rejects(conn.query("INSERT INTO npanel.api_tokens (token_hash, role) VALUES ('x', 'admin')"), /denied/);
      await assert.rejects(conn.query('SELECT * FROM mysql.global_priv'), /denied/);
      await assert.rejects(conn.query(`CREATE USER 'advpwned'@'%'`), /denied/);
      await assert.rejects(conn.query('CREATE DATABASE advpwned_db'), /denied/);
      await assert.rejects(conn.query('SELECT 1 INTO OUTFILE "/tmp/advdump-out"'), /denied/);
      await assert.rejects(conn.query('SET GLOBAL general_log = 1'), /denied|SUPER/);
      await assert.rejects(conn.query('SELECT COUNT(*) FROM `shop`.`customers`'), /denied/);
    } finally {
      await conn.end();
    }
  });
  assert.equal(await userExists(importLoginName(target)), 0, 'dropped afterwards');
  assert.equal(fs.existsSync('/tmp/advdump-out'), false);
});

test('a login left by a killed import is replaced on retry (its old password no longer works) and dropped after', async () => {
  const target = `advretry${rand().slice(0, 6)}`;
  sourceDbs.push(target);
  await admin.query(`CREATE DATABASE \`${target}\``);
  const leftover = `left-${rand()}`;
  await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [importLoginName(target), '%', leftover]);
  const admincfg = { host: '127.0.0.1', port: stack.file.mysql.port, user: 'npanel_admin', password: stack.secrets.mysqlAdminPassword };
  await withImportLogin(admincfg, target, async (login) => {
    assert.notEqual(login.password, leftover);
    await assert.rejects(mysql.createConnection({ ...login, password: leftover }), /Access denied/);
    const conn = await mysql.createConnection({ ...login, database: target });
    await conn.end();
  });
  assert.equal(await userExists(importLoginName(target)), 0);
});
