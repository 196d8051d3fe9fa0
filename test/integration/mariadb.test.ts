import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();
const { host, port } = stack.file.mysql;

async function withLogin<T>(user: string, password: string, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await mysql.createConnection({ host, port, user, password, connectTimeout: 3000 });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

test('the admin login works over TCP and may grant to others', async () => {
  await withLogin('npanel_admin', stack.secrets.mysqlAdminPassword, async (c) => {
    const [[me]] = await c.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS u');
    assert.equal(me.u, 'npanel_admin@127.0.0.1');
    const [grants] = await c.query<mysql.RowDataPacket[]>('SHOW GRANTS');
    const text = grants.map((g) => Object.values(g)[0]).join('\n');
    assert.match(text, /GRANT ALL PRIVILEGES ON \*\.\* TO `npanel_admin`@`127\.0\.0\.1`.*WITH GRANT OPTION/);
  });
});

test('the inventory login reaches npanel and nothing else', async () => {
  await withLogin('npanel', stack.secrets.inventoryPassword, async (c) => {
    const [dbs] = await c.query<mysql.RowDataPacket[]>('SHOW DATABASES');
    assert.deepEqual(dbs.map((r) => r.Database).sort(), ['information_schema', 'npanel']);
    const table = `probe_${process.pid}_${Date.now()}`;
    await c.query(`CREATE TABLE npanel.${table} (id INT PRIMARY KEY)`);
    await c.query(`INSERT INTO npanel.${table} VALUES (1)`);
    const [[row]] = await c.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM npanel.${table}`);
    assert.equal(Number(row.n), 1);
    await c.query(`DROP TABLE npanel.${table}`);
    await assert.rejects(c.query('SELECT * FROM mysql.user'), /denied/i);
  });
});

test('a wrong password is refused', async () => {
  await assert.rejects(
    withLogin('npanel_admin', `${stack.secrets.mysqlAdminPassword}x`, async () => undefined),
    (err: { code?: string }) => err.code === 'ER_ACCESS_DENIED_ERROR',
  );
});

test('the mariadb CLI logs in over TCP as the admin', async () => {
  // MYSQL_PWD keeps the password out of the process list.
  const { stdout } = await execFileP(
    'mariadb',
    ['--protocol=TCP', '-h', host, '-P', String(port), '-u', 'npanel_admin', '-N', '-B', '-e', 'SELECT CURRENT_USER()'],
    { env: { ...process.env, MYSQL_PWD: stack.secrets.mysqlAdminPassword } },
  );
  assert.equal(stdout.trim(), 'npanel_admin@127.0.0.1');
});
