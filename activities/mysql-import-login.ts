import crypto from 'node:crypto';
import mysql from 'mysql2/promise';
import { grantTarget, importLoginName, quoteId, type MysqlAdminConfig } from './mysql';

export { importLoginName } from './mysql';

/**
 * The login a dump is loaded with: made by the admin for one import, privileged on the target database only,
 * with a random password nobody else sees, and dropped afterwards. Its name has a `-`, which no customer user
 * can have (^[a-z][a-z0-9_]*$), and is fixed per database, so a retry after a crash drops the leftover first.
 *
 * It also holds SET USER, the one global privilege it has: MariaDB lets nobody else give a view, trigger or
 * routine a DEFINER other than themselves, and the dump's objects must belong to the account's own user (a
 * trigger runs as its definer; a definer that was dropped with this login would break it). The dump guard
 * rewrites every DEFINER to that user and refuses top-level dynamic SQL and CALL, and definersOtherThan checks
 * the result, so the privilege can only ever name the account's own user.
 */

export interface MysqlLogin {
  host: string;
  port: number;
  user: string;
  password: string;
}

const LOGIN_HOST = '%';

async function adminConnection(admin: MysqlAdminConfig): Promise<mysql.Connection> {
  return mysql.createConnection({ host: admin.host, port: admin.port, user: admin.user, password: admin.password, connectTimeout: 5000 });
}

/** Statement errors carry the code only: a server message can echo the password of an IDENTIFIED BY. */
async function run(conn: mysql.Connection, step: string, sql: string, values: unknown[] = []): Promise<unknown> {
  try {
    const [rows] = await conn.query(sql, values);
    return rows;
  } catch (err) {
    const e = err as { code?: string; errno?: number };
    throw new Error(`mysql import login: ${step} failed: ${e.code ?? 'error'}${e.errno ? ` (${e.errno})` : ''}`);
  }
}

async function dropLogin(conn: mysql.Connection, user: string): Promise<void> {
  const sessions = (await run(conn, 'list sessions', 'SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [user])) as {
    ID: number;
  }[];
  for (const { ID } of sessions) await conn.query('KILL CONNECTION ?', [Number(ID)]).catch(() => undefined);
  await run(conn, 'drop', 'DROP USER IF EXISTS ?@?', [user, LOGIN_HOST]);
}

/** Runs `fn` with a fresh import login for `database`; the login is gone afterwards, whatever `fn` did. */
export async function withImportLogin<T>(admin: MysqlAdminConfig, database: string, fn: (login: MysqlLogin) => Promise<T>): Promise<T> {
  const user = importLoginName(database);
  const password = crypto.randomBytes(24).toString('base64url');
  const conn = await adminConnection(admin);
  try {
    await dropLogin(conn, user);
    await run(conn, 'create', 'CREATE USER ?@? IDENTIFIED BY ?', [user, LOGIN_HOST, password]);
    await run(conn, 'grant', `GRANT ALL PRIVILEGES ON ${quoteId(grantTarget(database))}.* TO ?@?`, [user, LOGIN_HOST]);
    await run(conn, 'grant definer', 'GRANT SET USER ON *.* TO ?@?', [user, LOGIN_HOST]);
    try {
      return await fn({ host: admin.host, port: admin.port, user, password });
    } finally {
      await dropLogin(conn, user);
    }
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** Definers of the database's views, triggers, routines and events that are not `user`@`host` (as user@host). */
export async function definersOtherThan(
  admin: MysqlAdminConfig,
  database: string,
  owner: { user: string; host: string },
): Promise<string[]> {
  const conn = await adminConnection(admin);
  try {
    const rows = (await run(
      conn,
      'read definers',
      `SELECT DEFINER AS d FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
       UNION SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
       UNION SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
       UNION SELECT DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
      [database, database, database, database],
    )) as { d: string }[];
    return rows.map((r) => String(r.d)).filter((d) => d !== `${owner.user}@${owner.host}`);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}
