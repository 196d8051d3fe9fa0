import fs from 'node:fs';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { Db } from './client';

/** Name of the MariaDB user lock that serialises migrations across processes (API + workers start together). */
const MIGRATION_LOCK = 'npanel:migrations';
/** Seconds to wait for another process's migration run; a fresh schema takes well under a second. */
const LOCK_WAIT_SECONDS = 60;

/**
 * db/migrations in the repository, from this file's place: `<root>/db` when run from TS sources (tsx) and
 * `<root>/dist/db` when compiled (tsc does not copy .sql files, so dist has none of its own). Walk up to the
 * folder with package.json instead of counting `..`.
 */
export function defaultMigrationsFolder(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'db', 'migrations');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}: cannot find db/migrations`);
    dir = parent;
  }
}

/**
 * Applies pending migrations. Safe at every start and from several processes at once: a GET_LOCK taken on one
 * dedicated connection makes the others wait, then find nothing left to do. The migrations run on that same
 * connection, so the session settings below apply to them and the lock cannot outlive a crashed run (a
 * user lock dies with its session).
 */
export async function applyMigrations(db: Db, migrationsFolder: string = defaultMigrationsFolder()): Promise<void> {
  const client: Pool | PoolConnection = db.$client;
  const pooled = 'getConnection' in client && 'releaseConnection' in client;
  const conn: PoolConnection = pooled ? await (client as Pool).getConnection() : (client as PoolConnection);
  try {
    const [rows] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [MIGRATION_LOCK, LOCK_WAIT_SECONDS]);
    if ((rows as Array<{ got: number | null }>)[0]?.got !== 1) {
      throw new Error(`could not take the ${MIGRATION_LOCK} lock within ${LOCK_WAIT_SECONDS}s`);
    }
    try {
      // drizzle-kit leaves nullable TIMESTAMP columns without an explicit NULL; with the pre-10.10 default
      // (explicit_defaults_for_timestamp=OFF) MariaDB would make them NOT NULL DEFAULT 0. Pin the 10.10+ rule.
      await conn.query('SET SESSION explicit_defaults_for_timestamp = ON');
      await migrate(drizzle(conn, { mode: 'default' }), { migrationsFolder });
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK]);
    }
  } finally {
    if (pooled) conn.release();
  }
}
