import { ApplicationFailure } from '@temporalio/common';
import mysql from 'mysql2/promise';
import { DATABASE_NAME_RULE, isDatabaseName, isDatabaseUser } from '../common/names';
import { FAILURE } from '../common/failure-types';

/** The node's admin login (npanel_admin), which creates customer databases and users. */
export interface MysqlAdminConfig {
  host: string;
  port: number;
  user: string;
  password: string;
}

function invalidName(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FAILURE.MysqlInvalidName);
}

/** The customer database rule (common/names/database.ts): granting ALL on `mysql`.* would hand out the whole server. */
function checkDatabase(name: unknown): string {
  if (!isDatabaseName(name)) {
    throw invalidName(`invalid database name ${JSON.stringify(name)?.slice(0, 60)}: ${DATABASE_NAME_RULE}, not reserved`);
  }
  return name;
}

function checkUser(name: unknown): string {
  if (!isDatabaseUser(name)) {
    throw invalidName(`invalid user name ${JSON.stringify(name)?.slice(0, 60)}: ${DATABASE_NAME_RULE}, not reserved`);
  }
  return name;
}

/** Identifier quoting on top of validation: belt and braces, so a future looser regex cannot open an injection. */
export function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * A database name as a GRANT target: `_` and `%` are wildcards there, so `acme_wp` unescaped would also grant
 * `acmeXwp`. Escaped, mysql.db stores exactly this form, which the ownership checks compare against.
 */
export function grantTarget(name: string): string {
  return name.replace(/[_%]/g, '\\$&');
}

/**
 * The login a dump of `database` is loaded with (mysql-import-login.ts). The `-` keeps it out of the customer
 * names (DATABASE_NAME_PATTERN); one fixed name per database, so whoever drops the database drops a leftover login too.
 */
export const importLoginName = (database: string) => `npimp-${database}`;

/**
 * Runs one statement; on failure, throws a plain (retryable) Error naming the step and MariaDB's error code
 * but never the SQL or server message, which can echo a password.
 */
async function run(pool: mysql.Pool, step: string, sql: string, values: unknown[] = []): Promise<unknown> {
  try {
    const [result] = await pool.query(sql, values);
    return result;
  } catch (err) {
    const e = err as { code?: string; errno?: number };
    throw new Error(`mysql ${step} failed: ${e.code ?? 'error'}${e.errno ? ` (${e.errno})` : ''}`);
  }
}

/** Databases other than `db` on which `user` holds privileges (both escaped and plain forms count as `db`). */
async function grantsElsewhere(pool: mysql.Pool, user: string, db: string): Promise<string[]> {
  const rows = (await run(pool, 'read grants', 'SELECT Db FROM mysql.db WHERE User = ? AND Host = ?', [user, '%'])) as { Db: string }[];
  return rows.map((r) => r.Db).filter((name) => name !== db && name !== grantTarget(db));
}

export function createMysqlActivities(config: MysqlAdminConfig) {
  let pool: mysql.Pool | undefined;
  // Lazy: a worker that never touches MySQL opens no connection, and a MariaDB that starts later is fine.
  const getPool = () =>
    (pool ??= mysql.createPool({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      // Activities are short; two connections serve a worker's concurrent calls without crowding MariaDB.
      connectionLimit: 2,
      maxIdle: 1,
      idleTimeout: 60_000,
      connectTimeout: 5_000,
      enableKeepAlive: true,
    }));

  // Customers connect over TCP; with skip-name-resolve '%' matches 127.0.0.1 and any remote address alike.
  const HOST = '%';

  const activities = {
    /** Database + user with ALL on that database only; re-running sets the same password and grant. */
    async ensureCustomerDatabase(input: { database: string; user: string; password: string }): Promise<{ database: string; user: string }> {
      const db = checkDatabase(input.database);
      const user = checkUser(input.user);
      if (typeof input.password !== 'string' || input.password.length < 8 || input.password.length > 128) {
        throw ApplicationFailure.nonRetryable('database password must be 8 to 128 characters', FAILURE.MysqlInvalidPassword);
      }
      const p = getPool();
      // A login that already holds another database belongs to someone else: taking it over would hand its
      // password and data to this account. Refuse, permanently.
      const others = await grantsElsewhere(p, user, db);
      if (others.length)
        throw ApplicationFailure.nonRetryable(`database user ${user} already holds another database`, FAILURE.MysqlUserTaken);
      await run(p, 'create database', `CREATE DATABASE IF NOT EXISTS ${quoteId(db)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await run(p, 'create user', 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, HOST, input.password]);
      // CREATE ... IF NOT EXISTS keeps an old password: set it explicitly so a retry with a new one wins.
      await run(p, 'set password', 'ALTER USER ?@? IDENTIFIED BY ?', [user, HOST, input.password]);
      await run(p, 'grant', `GRANT ALL PRIVILEGES ON ${quoteId(grantTarget(db))}.* TO ?@?`, [user, HOST]);
      return { database: db, user };
    },

    /** Drops the database and its user; both absent is success. */
    async dropCustomerDatabase(input: { database: string; user: string }): Promise<{ database: string; user: string }> {
      const db = checkDatabase(input.database);
      const user = checkUser(input.user);
      const p = getPool();
      await killConnections(p, user);
      await run(p, 'drop database', `DROP DATABASE IF EXISTS ${quoteId(db)}`);
      // An import killed mid-way (worker SIGKILL) leaves its login; with the database gone it must go too.
      await run(p, 'drop import login', 'DROP USER IF EXISTS ?@?', [importLoginName(db), HOST]);
      // The undo of a refused ensure (MysqlUserTaken) lands here too: a login that still holds another
      // database is not ours to drop.
      if ((await grantsElsewhere(p, user, db)).length === 0) await run(p, 'drop user', 'DROP USER IF EXISTS ?@?', [user, HOST]);
      else
        await run(p, 'revoke', 'DELETE FROM mysql.db WHERE User = ? AND Host = ? AND Db IN (?, ?)', [user, HOST, db, grantTarget(db)]).then(
          () => run(p, 'flush', 'FLUSH PRIVILEGES'),
        );
      return { database: db, user };
    },

    /** Suspend/unsuspend: ACCOUNT LOCK refuses new logins; locking also ends the sessions already open. */
    async setCustomerDatabaseLocked(input: { user: string; locked: boolean }): Promise<{ user: string; locked: boolean; exists: boolean }> {
      const user = checkUser(input.user);
      const locked = input.locked === true;
      const p = getPool();
      const rows = (await run(p, 'find user', 'SELECT 1 FROM mysql.global_priv WHERE User = ? AND Host = ?', [user, HOST])) as unknown[];
      // A user that is gone needs no lock (deprovision may have run first); report it rather than fail.
      if (rows.length === 0) return { user, locked, exists: false };
      await run(p, locked ? 'lock' : 'unlock', `ALTER USER ?@? ACCOUNT ${locked ? 'LOCK' : 'UNLOCK'}`, [user, HOST]);
      if (locked) await killConnections(p, user);
      return { user, locked, exists: true };
    },
  };

  async function close(): Promise<void> {
    const p = pool;
    pool = undefined;
    await p?.end();
  }

  return { activities, close };
}

/** Ends a user's open sessions; one that ended meanwhile (ER_NO_SUCH_THREAD) is what we wanted anyway. */
async function killConnections(pool: mysql.Pool, user: string): Promise<void> {
  const rows = (await run(pool, 'list sessions', 'SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [user])) as {
    ID: number;
  }[];
  for (const { ID } of rows) {
    try {
      await pool.query('KILL CONNECTION ?', [Number(ID)]);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_NO_SUCH_THREAD')
        throw new Error(`mysql kill session failed: ${(err as { code?: string }).code}`);
    }
  }
}

export type MysqlActivities = ReturnType<typeof createMysqlActivities>['activities'];
