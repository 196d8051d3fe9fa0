import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import type { StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree } from '../ports';

const execFileP = promisify(execFile);

/** The system user the server drops to: mariadbd refuses to run as root. */
const RUN_AS = 'mysql';

interface MariadbPaths {
  dir: string;
  conf: string;
  data: string;
  /** Where mariadb-install-db writes; renamed to `data` only when init succeeded, so a crash never leaves half a datadir. */
  dataInit: string;
  run: string;
  tmp: string;
  socket: string;
}

function paths(ctx: StackContext): MariadbPaths {
  const dir = path.join(ctx.home, 'mariadb');
  const run = path.join(dir, 'run');
  return {
    dir,
    conf: path.join(dir, 'my.cnf'),
    data: path.join(dir, 'data'),
    dataInit: path.join(dir, 'data.init'),
    run,
    tmp: path.join(dir, 'tmp'),
    socket: path.join(run, 'mariadb.sock'),
  };
}

/** The server's unix socket: root logs in here (unix_socket auth), the bootstrap and the `mariadb` CLI use it. */
export function mariadbSocket(ctx: StackContext): string {
  return paths(ctx).socket;
}

/**
 * Small on purpose: the whole stack must idle under 1.5 GiB. The defaults (128 MiB buffer pool, 128 MiB Aria
 * page cache, performance_schema) grow far past that; with these it idles at ~58 MiB RSS (measured).
 */
function renderConfig(p: MariadbPaths, port: number, datadir: string): string {
  return `# Written by npanel at every start: edit stack/services/mariadb.ts, not this file.
[mysqld]
user=${RUN_AS}
datadir=${datadir}
socket=${p.socket}
pid-file=${path.join(p.run, 'mariadb.pid')}
tmpdir=${p.tmp}
bind-address=127.0.0.1
port=${port}
# Grants name 127.0.0.1 or '%', never host names: no DNS lookups on connect.
skip-name-resolve
skip-log-bin
performance_schema=OFF
innodb_buffer_pool_size=16M
innodb_log_file_size=16M
innodb_log_buffer_size=4M
aria_pagecache_buffer_size=4M
key_buffer_size=1M
max_connections=60
thread_cache_size=4
table_open_cache=256
table_definition_cache=400
tmp_table_size=8M
max_heap_table_size=8M
sort_buffer_size=256K
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
# The error log goes to stderr, which startDaemon writes to logs/mariadb.log.

[client]
socket=${p.socket}
port=${port}
`;
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, uid, gid);
    else fs.chownSync(full, uid, gid);
  }
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([
    execFileP('id', ['-u', name]).then((r) => Number(r.stdout.trim())),
    execFileP('id', ['-g', name]).then((r) => Number(r.stdout.trim())),
  ]);
  return { uid, gid };
}

/** Creates the system tables once: only when no datadir exists yet (restarts keep every database). */
async function initDatadir(ctx: StackContext, p: MariadbPaths, ids: { uid: number; gid: number }): Promise<void> {
  if (fs.existsSync(path.join(p.data, 'mysql'))) return;
  fs.rmSync(p.dataInit, { recursive: true, force: true });
  fs.mkdirSync(p.dataInit, { recursive: true });
  fs.chownSync(p.dataInit, ids.uid, ids.gid);
  // A config that points at the temporary datadir: install-db reads datadir from it.
  const initConf = path.join(p.dir, 'my.init.cnf');
  fs.writeFileSync(initConf, renderConfig(p, ctx.ports.mysql, p.dataInit));
  const started = Date.now();
  try {
    // --defaults-file must be the first argument. Root gets unix_socket auth only: no password to keep.
    await execFileP(
      'mariadb-install-db',
      [`--defaults-file=${initConf}`, '--auth-root-authentication-method=socket', '--skip-test-db', `--user=${RUN_AS}`],
      { maxBuffer: 4 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`mariadb-install-db failed: ${e.message}\n${(e.stderr ?? '').slice(-2000)}`);
  }
  fs.rmSync(p.data, { recursive: true, force: true });
  fs.renameSync(p.dataInit, p.data);
  fs.rmSync(initConf, { force: true });
  ctx.log.info({ ms: Date.now() - started }, 'mariadb datadir initialised');
}

function rootOverSocket(p: MariadbPaths): Promise<mysql.Connection> {
  // mysql2 answers the unix_socket auth plugin (the kernel vouches for our uid 0), so root needs no password.
  return mysql.createConnection({ socketPath: p.socket, user: 'root', connectTimeout: 1000 });
}

/** Readiness is a real login and a query, not an open port. */
async function canLogin(p: MariadbPaths): Promise<boolean> {
  if (!fs.existsSync(p.socket)) return false;
  const conn = await rootOverSocket(p);
  try {
    await conn.query('SELECT 1');
    return true;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/**
 * Idempotent accounts: the node's admin login for customer databases (both over TCP and the socket) and the
 * inventory database with its own login. Runs at every start so a changed secret is applied again.
 */
async function bootstrap(ctx: StackContext, p: MariadbPaths): Promise<void> {
  const conn = await rootOverSocket(p);
  const admin = ctx.secrets.mysqlAdminPassword;
  const inventory = ctx.secrets.inventoryPassword;
  try {
    // Anonymous accounts would shadow '%' grants for socket logins; this stack never wants them.
    const [anon] = await conn.query<mysql.RowDataPacket[]>("SELECT Host FROM mysql.global_priv WHERE User = ''");
    for (const row of anon) await conn.query("DROP USER IF EXISTS ''@?", [row.Host]);
    for (const host of ['127.0.0.1', 'localhost']) {
      await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', ['npanel_admin', host, admin]);
      await conn.query('ALTER USER ?@? IDENTIFIED BY ?', ['npanel_admin', host, admin]);
      await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', ['npanel_admin', host]);
    }
    await conn.query('CREATE DATABASE IF NOT EXISTS `npanel` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
    await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', ['npanel', '127.0.0.1', inventory]);
    await conn.query('ALTER USER ?@? IDENTIFIED BY ?', ['npanel', '127.0.0.1', inventory]);
    await conn.query('GRANT ALL PRIVILEGES ON `npanel`.* TO ?@?', ['npanel', '127.0.0.1']);
  } catch (err) {
    // Never echo the statement: it carries passwords.
    const e = err as { code?: string; sqlMessage?: string };
    throw new Error(`mariadb bootstrap failed: ${e.code ?? 'error'}`);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

export async function startMariadb(ctx: StackContext): Promise<RunningDaemon> {
  const p = paths(ctx);
  // A server still running on this home would lose its socket below: fail with a clear line instead.
  await assertPortsFree('mariadb', [ctx.ports.mysql]);
  const ids = await userIds(RUN_AS);
  for (const d of [p.dir, p.run, p.tmp]) fs.mkdirSync(d, { recursive: true });
  // The mysql user writes the socket, pid and temp files; the folder itself only needs to be traversable.
  fs.chmodSync(p.dir, 0o755);
  for (const d of [p.run, p.tmp]) fs.chownSync(d, ids.uid, ids.gid);
  fs.rmSync(p.socket, { force: true }); // a stale socket from a killed run would pass the readiness check's stat

  await initDatadir(ctx, p, ids);
  // Repairs ownership after a copy or restore made as root; skipped (no tree walk) when the top is already right.
  if (fs.statSync(p.data).uid !== ids.uid) chownTree(p.data, ids.uid, ids.gid);
  fs.writeFileSync(p.conf, renderConfig(p, ctx.ports.mysql, p.data));

  const daemon = await startDaemon({
    name: 'mariadb',
    command: 'mariadbd',
    args: [`--defaults-file=${p.conf}`],
    logDir: ctx.logDir,
    ready: () => canLogin(p),
    readyTimeoutMs: 30_000,
    // SIGTERM is mariadbd's clean shutdown (flushes InnoDB); give it time before startDaemon's SIGKILL.
    stopTimeoutMs: 20_000,
  });
  try {
    await bootstrap(ctx, p);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return daemon;
}
