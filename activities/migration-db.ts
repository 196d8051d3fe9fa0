import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import mysql from 'mysql2/promise';
import { isDatabaseName, isDatabaseUser, isSourceDatabase } from '../common/names';
import type { MysqlAdminConfig } from './mysql';
import { definersOtherThan, withImportLogin } from './mysql-import-login';
import { remoteCommand } from './remote-quote';
import { DumpRefused, createDumpGuard } from './sql-dump-guard';
import { connectLoader, createStatementLoader } from './sql-dump-loader';
import { sshConnect, type SshSession, type SshTarget } from './ssh-connect';
import { FAILURE } from '../common/failure-types';

/**
 * One database from the source into a target database on this node: `mysqldump --single-transaction` streamed
 * over SSH through the dump guard into a login of the target database only, then row counts compared table by
 * table. An empty, partial or refused import is an error, never a success.
 */

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

const ident = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** Runs one SQL statement on the source with the user's own ~/.my.cnf: the SQL is one quoted argument. */
async function sourceQuery(session: SshSession, database: string, sql: string): Promise<string[][]> {
  const res = await session.exec(remoteCommand(['mysql', '--batch', '--skip-column-names', '-e', sql, database]));
  if (res.code !== 0) throw new Error(`mysql on the source failed (exit ${res.code}): ${res.stderr.slice(0, 300)}`);
  return res.stdout
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

export async function sourceTableCounts(session: SshSession, database: string): Promise<Map<string, number>> {
  const tables = await sourceQuery(
    session,
    database,
    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
  );
  const counts = new Map<string, number>();
  if (tables.length === 0) return counts;
  const sql = tables.map(([t]) => `SELECT ${mysql.escape(t)}, COUNT(*) FROM ${ident(t!)}`).join(' UNION ALL ');
  for (const [t, n] of await sourceQuery(session, database, sql)) counts.set(t!, Number(n));
  return counts;
}

/** Bytes of each named database on the source (information_schema estimate, for the space check). */
export async function sourceDatabaseSizes(session: SshSession, names: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (names.length === 0) return sizes;
  for (const n of names)
    if (!isSourceDatabase(n))
      throw ApplicationFailure.nonRetryable(`invalid source database name ${JSON.stringify(n)}`, FAILURE.InvalidInput);
  const list = names.map((n) => mysql.escape(n)).join(',');
  const rows = await sourceQuery(
    session,
    'information_schema',
    `SELECT SCHEMA_NAME, (SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = s.SCHEMA_NAME) FROM information_schema.SCHEMATA s WHERE SCHEMA_NAME IN (${list})`,
  );
  for (const [n, b] of rows) sizes.set(n!, Number(b));
  return sizes;
}

async function targetCounts(admin: MysqlAdminConfig, database: string): Promise<Map<string, number>> {
  const conn = await mysql.createConnection({ ...admin, database, connectTimeout: 5000 });
  try {
    const [tables] = await conn.query<mysql.RowDataPacket[]>(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    );
    const counts = new Map<string, number>();
    for (const { t } of tables) {
      const [[row]] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${ident(String(t))}`);
      counts.set(String(t), Number(row!.n));
    }
    return counts;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** How long to wait for mysqldump's exit status after the load stopped, to tell its failure from ours. */
const DUMP_EXIT_GRACE_MS = 2000;

/** A refusal of the guard: final (the same dump is refused again), naming the statement kind, never its data. */
function refusalFailure(err: unknown, database: string): unknown {
  if (err instanceof DumpRefused)
    return ApplicationFailure.nonRetryable(`the dump of ${database} was refused: ${err.message}`, FAILURE.DumpStatementRefused);
  return err;
}

/**
 * The dump streams over SSH through the guard (every DEFINER made the account's user; users, grants, other
 * databases, files and globals refused) into a login that reaches only the target database, created for this
 * copy and dropped after it. The admin login never runs a statement of the dump.
 */
export async function copyDatabase(
  admin: MysqlAdminConfig,
  input: { source: SshTarget; database: string; targetDatabase: string; owner?: string },
) {
  if (!isSourceDatabase(input.database))
    throw ApplicationFailure.nonRetryable(`invalid source database name ${JSON.stringify(input.database)}`, FAILURE.InvalidInput);
  if (!isDatabaseName(input.targetDatabase))
    throw ApplicationFailure.nonRetryable(`invalid target database name ${JSON.stringify(input.targetDatabase)}`, FAILURE.InvalidInput);
  // migrateSite names the database's user after the database (ensureCustomerDatabase { database: t, user: t }).
  const owner = { user: input.owner ?? input.targetDatabase, host: '%' };
  if (!isDatabaseUser(owner.user))
    throw ApplicationFailure.nonRetryable(`invalid owner name ${JSON.stringify(owner.user)}`, FAILURE.InvalidInput);
  const ctx = Context.current();
  const session = await sshConnect(input.source);
  try {
    const loaded = await withImportLogin(admin, input.targetDatabase, async (login) => {
      const conn = await connectLoader(login, input.targetDatabase);
      try {
        // Tap the stream: count bytes for the heartbeat and keep the tail to see mysqldump's completion trailer.
        let bytes = 0;
        let tail = '';
        const tap = new PassThrough();
        tap.on('data', (d: Buffer) => {
          bytes += d.length;
          tail = (tail + d.toString('latin1')).slice(-200);
          ctx.heartbeat({ bytes });
        });
        const guard = createDumpGuard({ database: input.targetDatabase, sourceDatabase: input.database, definer: owner });
        const loader = createStatementLoader(conn);
        const piped = pipeline(tap, guard, loader);
        const dumped = session.execStream(
          remoteCommand([
            'mysqldump',
            '--single-transaction',
            '--quick',
            '--routines',
            '--triggers',
            '--events',
            '--hex-blob',
            '--default-character-set=utf8mb4',
            input.database,
          ]),
          tap,
        );
        dumped.catch(() => undefined); // awaited below; a load that fails first leaves it pending until the session ends
        try {
          await piped;
        } catch (err) {
          // A dump cut short by mysqldump's own failure is reported as that, not as the half statement it left.
          const exit = await Promise.race([
            dumped.catch(() => undefined),
            new Promise<undefined>((r) => setTimeout(() => r(undefined), DUMP_EXIT_GRACE_MS)),
          ]);
          if (exit && exit.code !== 0)
            throw new Error(`mysqldump ${input.database} failed (exit ${exit.code}): ${exit.stderr.slice(0, 300)}`);
          throw refusalFailure(err, input.database);
        }
        const dump = await dumped;
        if (dump.code !== 0) throw new Error(`mysqldump ${input.database} failed (exit ${dump.code}): ${dump.stderr.slice(0, 300)}`);
        if (!/-- Dump completed/.test(tail))
          throw new Error(`the dump of ${input.database} is incomplete (no completion trailer after ${bytes} bytes)`);
        return { bytes, statements: loader.count() };
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    });
    const foreign = await definersOtherThan(admin, input.targetDatabase, owner);
    if (foreign.length)
      throw ApplicationFailure.nonRetryable(
        `import into ${input.targetDatabase} left ${foreign.length} object(s) with a definer other than ${owner.user}`,
        FAILURE.DumpDefinerForeign,
      );
    const [theirs, ours] = await Promise.all([sourceTableCounts(session, input.database), targetCounts(admin, input.targetDatabase)]);
    const tables: TableCount[] = [...theirs].map(([table, n]) => ({ table, source: n, target: ours.get(table) ?? -1 }));
    const wrong = tables.filter((t) => t.source !== t.target);
    if (ours.size === 0 && theirs.size > 0) throw new Error(`import into ${input.targetDatabase} produced no tables`);
    if (wrong.length > 0)
      throw new Error(`row counts differ after import: ${wrong.map((t) => `${t.table} ${t.source}≠${t.target}`).join(', ')}`);
    return { database: input.database, targetDatabase: input.targetDatabase, bytes: loaded.bytes, statements: loaded.statements, tables };
  } finally {
    session.end();
  }
}
