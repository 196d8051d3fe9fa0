import mysql from 'mysql2/promise';
import type { PoolConnection as CorePoolConnection } from 'mysql2';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import * as schema from './schema';

/** The drizzle handle every repository takes; `$client` is the pool, which applyMigrations borrows a connection from. */
export type Db = MySql2Database<typeof schema> & { $client: mysql.Pool };

export type DbConfig =
  | { url: string; connectionLimit?: number }
  | { host: string; port: number; user: string; password: string; database: string; connectionLimit?: number };

export interface DbHandle {
  db: Db;
  pool: mysql.Pool;
  close(): Promise<void>;
}

/**
 * A small mysql2 pool and drizzle over it. API and worker each make one at start and pass `db` to the
 * repository factories (no global db).
 */
export function createDb(config: DbConfig): DbHandle {
  const common: mysql.PoolOptions = {
    // The inventory sees a handful of queries per workflow step: a few connections are plenty, and every
    // process (API, each worker) holds its own pool against one MariaDB.
    connectionLimit: config.connectionLimit ?? 4,
    maxIdle: 2,
    idleTimeout: 60_000,
    // Params that are JS Dates (raw sql`...${date}`) are sent as UTC, matching the session time zone below.
    timezone: 'Z',
    supportBigNumbers: true,
    enableKeepAlive: true,
  };
  const pool =
    'url' in config
      ? mysql.createPool({ uri: config.url, ...common })
      : mysql.createPool({
          host: config.host,
          port: config.port,
          user: config.user,
          password: config.password,
          database: config.database,
          ...common,
        });
  // Drizzle reads and writes TIMESTAMP columns as bare 'YYYY-MM-DD hh:mm:ss.fff' strings it takes to be UTC,
  // while MariaDB converts TIMESTAMP values to and from the SESSION time zone (the host's zone by default).
  // Pin every new connection to UTC; mysql2 queues this before any query handed to the connection.
  // (mysql2's typings say the promise wrapper, but the event hands over the callback-style core connection.)
  // A connection that cannot be pinned is destroyed rather than left to write shifted timestamps.
  pool.on('connection', (conn) => {
    const core = conn as unknown as CorePoolConnection;
    core.query("SET time_zone = '+00:00'", (err) => {
      if (err) core.destroy();
    });
  });
  const db = drizzle(pool, { schema, mode: 'default' });
  return {
    db,
    pool,
    close: () => pool.end(),
  };
}
