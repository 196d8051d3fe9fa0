import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import mysql from 'mysql2/promise';
import type { MysqlAdminConfig } from './mysql';
import { remoteCommand } from './remote-quote';
import { sshConnect, type SshSession, type SshTarget } from './ssh-connect';

/**
 * One database from the source into a target database on this node: `mysqldump --single-transaction` streamed
 * over SSH straight into the `mariadb` client (admin login: the dump carries DEFINER clauses only an admin may
 * replay), then row counts compared table by table. An empty or partial import is an error, never a success.
 */

const SOURCE_DB = /^[A-Za-z0-9_]{1,64}$/;
const TARGET_DB = /^[a-z][a-z0-9_]{0,31}$/;

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
  return res.stdout.toString('utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
}

export async function sourceTableCounts(session: SshSession, database: string): Promise<Map<string, number>> {
  const tables = await sourceQuery(session, database, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1");
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
  for (const n of names) if (!SOURCE_DB.test(n)) throw ApplicationFailure.nonRetryable(`invalid source database name ${JSON.stringify(n)}`, 'InvalidInput');
  const list = names.map((n) => mysql.escape(n)).join(',');
  const rows = await sourceQuery(session, 'information_schema', `SELECT SCHEMA_NAME, (SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = s.SCHEMA_NAME) FROM information_schema.SCHEMATA s WHERE SCHEMA_NAME IN (${list})`);
  for (const [n, b] of rows) sizes.set(n!, Number(b));
  return sizes;
}

async function targetCounts(admin: MysqlAdminConfig, database: string): Promise<Map<string, number>> {
  const conn = await mysql.createConnection({ ...admin, database, connectTimeout: 5000 });
  try {
    const [tables] = await conn.query<mysql.RowDataPacket[]>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'");
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

/** The admin password goes in a 0600 defaults file, never on a command line (visible in ps). */
function adminDefaultsFile(admin: MysqlAdminConfig): { file: string; dispose: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-my-'));
  const file = path.join(dir, 'my.cnf');
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  fs.writeFileSync(file, `[client]\nhost="${esc(admin.host)}"\nport=${admin.port}\nuser="${esc(admin.user)}"\npassword="${esc(admin.password)}"\n`, { mode: 0o600 });
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export async function copyDatabase(admin: MysqlAdminConfig, input: { source: SshTarget; database: string; targetDatabase: string }) {
  if (!SOURCE_DB.test(input.database)) throw ApplicationFailure.nonRetryable(`invalid source database name ${JSON.stringify(input.database)}`, 'InvalidInput');
  if (!TARGET_DB.test(input.targetDatabase)) throw ApplicationFailure.nonRetryable(`invalid target database name ${JSON.stringify(input.targetDatabase)}`, 'InvalidInput');
  const ctx = Context.current();
  const session = await sshConnect(input.source);
  const defaults = adminDefaultsFile(admin);
  try {
    const importer = spawn('mariadb', [`--defaults-extra-file=${defaults.file}`, '--binary-mode', '--default-character-set=utf8mb4', input.targetDatabase], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let importErr = '';
    importer.stderr.on('data', (d: Buffer) => (importErr = (importErr + d.toString('utf8')).slice(-2000)));
    const imported = new Promise<number | null>((resolve, reject) => {
      importer.once('error', reject);
      importer.once('close', resolve);
    });
    // Tap the stream: count bytes for the heartbeat and keep the tail to see mysqldump's completion trailer.
    let bytes = 0;
    let tail = '';
    const tap = new PassThrough();
    tap.on('data', (d: Buffer) => {
      bytes += d.length;
      tail = (tail + d.toString('latin1')).slice(-200);
      ctx.heartbeat({ bytes });
    });
    tap.pipe(importer.stdin);
    importer.stdin.on('error', () => undefined); // EPIPE when the importer dies first: its exit code tells why
    const dump = await session.execStream(
      remoteCommand(['mysqldump', '--single-transaction', '--quick', '--routines', '--triggers', '--events', '--hex-blob', '--default-character-set=utf8mb4', input.database]),
      tap,
    );
    const importCode = await imported;
    if (dump.code !== 0) throw new Error(`mysqldump ${input.database} failed (exit ${dump.code}): ${dump.stderr.slice(0, 300)}`);
    if (!/-- Dump completed/.test(tail)) throw new Error(`the dump of ${input.database} is incomplete (no completion trailer after ${bytes} bytes)`);
    if (importCode !== 0) throw new Error(`import into ${input.targetDatabase} failed (exit ${importCode}): ${importErr.replace(admin.password, '***').slice(0, 300)}`);
    const [theirs, ours] = await Promise.all([sourceTableCounts(session, input.database), targetCounts(admin, input.targetDatabase)]);
    const tables: TableCount[] = [...theirs].map(([table, n]) => ({ table, source: n, target: ours.get(table) ?? -1 }));
    const wrong = tables.filter((t) => t.source !== t.target);
    if (ours.size === 0 && theirs.size > 0) throw new Error(`import into ${input.targetDatabase} produced no tables`);
    if (wrong.length > 0) throw new Error(`row counts differ after import: ${wrong.map((t) => `${t.table} ${t.source}≠${t.target}`).join(', ')}`);
    return { database: input.database, targetDatabase: input.targetDatabase, bytes, tables };
  } finally {
    defaults.dispose();
    session.end();
  }
}
