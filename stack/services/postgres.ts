import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree } from '../ports';

const execFileP = promisify(execFile);

/** initdb and postgres refuse to run as root: the cluster belongs to the Debian package's system user. */
const RUN_AS = 'postgres';

/** The role Temporal's persistence logs in as (owner of both of its databases in this private cluster). */
export const TEMPORAL_DB_USER = 'temporal';

/** The newest PostgreSQL the Debian `postgresql` package installed (/usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root)
    ? fs.readdirSync(root).filter((d) => /^\d+$/.test(d) && fs.existsSync(path.join(root, d, 'bin', 'postgres')))
    : [];
  if (!majors.length)
    throw new Error('PostgreSQL not found in /usr/lib/postgresql: install the Debian package postgresql (bin/npanel does)');
  return path.join(root, majors.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

function paths(ctx: StackContext) {
  const dir = path.join(ctx.home, 'postgres');
  return { dir, data: path.join(dir, 'data'), dataInit: path.join(dir, 'data.init'), pwfile: path.join(dir, 'pwfile') };
}

export function postgresInfo(ctx: StackContext) {
  return { host: '127.0.0.1', port: ctx.ports.cluster.postgres, user: TEMPORAL_DB_USER, password: ctx.secrets.temporalDbPassword };
}

/** Runs a PostgreSQL binary as the postgres user (setpriv execs it: the pid we keep is the server's own). */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return ['setpriv', ['--reuid', RUN_AS, '--regid', RUN_AS, '--init-groups', '--', bin, ...args]];
}

/**
 * A fresh data directory: initdb into `data.init`, renamed to `data` only when it succeeded (a crash never
 * leaves half a cluster). The superuser is Temporal's role, password-only over TCP (scram-sha-256): this
 * cluster holds nothing but Temporal's two databases, which temporal-sql-tool creates.
 */
async function initCluster(ctx: StackContext): Promise<void> {
  const p = paths(ctx);
  fs.rmSync(p.dataInit, { recursive: true, force: true });
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(p.pwfile, ctx.secrets.temporalDbPassword + '\n', { mode: 0o600 });
  fs.mkdirSync(p.dataInit, { mode: 0o700 });
  const [cmd, args] = asPostgres(path.join(postgresBinDir(), 'initdb'), [
    '--pgdata',
    p.dataInit,
    '--username',
    TEMPORAL_DB_USER,
    '--pwfile',
    p.pwfile,
    '--auth-host',
    'scram-sha-256',
    '--auth-local',
    'reject',
    '--encoding',
    'UTF8',
    '--locale',
    'C.UTF-8',
  ]);
  try {
    chownTree(p.dir);
    await execFileP(cmd, args, { cwd: '/' });
  } finally {
    fs.rmSync(p.pwfile, { force: true });
  }
  fs.renameSync(p.dataInit, p.data);
}

/** The postgres user must own its folder (and read the password file initdb is given). */
function chownTree(dir: string): void {
  const { uid, gid } = postgresIds();
  for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: false }) as string[]) fs.chownSync(path.join(dir, f), uid, gid);
  fs.chownSync(dir, uid, gid);
}

function postgresIds(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${RUN_AS}:`));
  if (!line) throw new Error(`system user ${RUN_AS} missing: install the Debian package postgresql`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Settings on the command line (not in postgresql.conf) so every start uses the values below, whatever an
 * older data directory says. max_connections: the server's four services each open their own pools
 * (production.yaml: 20 for history + 10 for visibility), 120 at most, with room for the schema tool and psql.
 */
function serverArgs(ctx: StackContext): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(ctx.ports.cluster.postgres),
    unix_socket_directories: '', // TCP only: no socket path to fit in 107 bytes, nothing outside the home
    max_connections: '200',
    shared_buffers: '32MB',
    fsync: 'on',
    synchronous_commit: 'off', // a crash of the machine may lose the last ~0.6 s, never corrupt (a dev stack)
    logging_collector: 'off', // stderr goes to logs/postgres.log
    log_min_messages: 'warning',
  };
  return ['-D', paths(ctx).data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/** Ready = a real client logs in as Temporal's role over TCP (pg_isready only proves the port answers). */
async function acceptsLogin(ctx: StackContext): Promise<boolean> {
  const info = postgresInfo(ctx);
  try {
    await execFileP(
      path.join(postgresBinDir(), 'psql'),
      ['-h', info.host, '-p', String(info.port), '-U', info.user, '-d', 'postgres', '-tAc', 'SELECT 1'],
      {
        env: { ...process.env, PGPASSWORD: info.password, PGCONNECT_TIMEOUT: '2' },
        timeout: 5000,
      },
    );
    return true;
  } catch {
    return false;
  }
}

/** The private PostgreSQL of `up --temporal cluster`: Temporal's persistence and visibility stores. */
export async function startPostgres(ctx: StackContext): Promise<RunningDaemon> {
  await assertPortsFree('PostgreSQL (Temporal cluster)', [ctx.ports.cluster.postgres]);
  if (!fs.existsSync(path.join(paths(ctx).data, 'PG_VERSION'))) await initCluster(ctx);
  const [command, args] = asPostgres(path.join(postgresBinDir(), 'postgres'), serverArgs(ctx));
  return startDaemon({
    name: 'postgres',
    command,
    args,
    cwd: '/',
    logDir: ctx.logDir,
    readyTimeoutMs: 30_000,
    ready: () => acceptsLogin(ctx),
    // SIGINT = "fast" shutdown: open sessions are cut, everything committed is on disk.
    stop: (child) => void child.kill('SIGINT'),
    stopTimeoutMs: 20_000,
  });
}
