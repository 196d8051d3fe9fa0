import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import mysql from 'mysql2/promise';
import type { MysqlLogin } from './mysql-import-login';
import type { GuardedStatement } from './sql-dump-guard';
import { FAILURE } from '../common/failure-types';

/**
 * Runs guarded statements one by one over one connection, instead of piping text into the `mariadb` client:
 * each query is exactly one statement (multi-statements off), so no reading of the text by a second program
 * (client commands, its own idea of where a statement ends) can differ from the guard's. The connection's
 * charset is `binary`: the latin1 text goes out as the dump's own bytes, and the dump's SET NAMES says what they are.
 * Session tracking is off: with it, mysql2 follows the server's SET NAMES and would encode the text as UTF-8
 * from then on (each byte ≥ 0x80 sent as two: mojibake in every migrated row).
 */

/** Errors that a retry cannot fix: the dump asks for something this login may not do, or is not SQL. */
const FINAL_CODES = new Set([
  'ER_PARSE_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_PROCACCESS_DENIED_ERROR',
]);

export async function connectLoader(login: MysqlLogin, database: string): Promise<mysql.Connection> {
  return mysql.createConnection({
    ...login,
    database,
    charset: 'BINARY',
    flags: ['-SESSION_TRACK'],
    multipleStatements: false,
    connectTimeout: 5000,
  });
}

/** A Writable of GuardedStatement; `count()` says how many ran. The error names the statement number and kind only. */
export function createStatementLoader(conn: mysql.Connection): Writable & { count(): number } {
  let n = 0;
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 4,
    write(st: GuardedStatement, _enc, done) {
      n++;
      conn.query(st.sql).then(
        () => done(),
        (err: { code?: string; errno?: number }) => {
          const message = `import statement ${n} (${st.kind}) failed: ${err.code ?? 'error'}${err.errno ? ` (${err.errno})` : ''}`;
          done(
            err.code && FINAL_CODES.has(err.code)
              ? ApplicationFailure.nonRetryable(message, FAILURE.DumpStatementFailed)
              : new Error(message),
          );
        },
      );
    },
  });
  return Object.assign(sink, { count: () => n });
}
