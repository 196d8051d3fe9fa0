import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree } from '../ports';

const execFileP = promisify(execFile);

/** pdns_server drops to this user after binding: the SQLite file AND its folder must be writable by it. */
const RUN_AS = 'pdns';
const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';
/** Zones made without an explicit SOA get this one; the default is a placeholder a resolver would reject. */
const DEFAULT_SOA = 'ns1.npanel.test. hostmaster.npanel.test. 0 10800 3600 604800 3600';

interface PdnsPaths {
  dir: string;
  db: string;
  run: string;
}

function paths(ctx: StackContext): PdnsPaths {
  const dir = path.join(ctx.home, 'pdns');
  return { dir, db: path.join(dir, 'pdns.sqlite3'), run: path.join(dir, 'run') };
}

function renderConfig(ctx: StackContext, p: PdnsPaths): string {
  return `# Written by npanel at every start: edit stack/services/powerdns.ts, not this file.
launch=gsqlite3
gsqlite3-database=${p.db}
setuid=${RUN_AS}
setgid=${RUN_AS}
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
socket-dir=${p.run}
local-address=127.0.0.1
local-port=${ctx.ports.dns}
api=yes
api-key=${ctx.secrets.pdnsApiKey}
webserver=yes
webserver-address=127.0.0.1
webserver-port=${ctx.ports.dnsApi}
webserver-allow-from=127.0.0.0/8
default-soa-content=${DEFAULT_SOA}
# One thread each: a dev stack answers a handful of queries, and every thread costs memory.
receiver-threads=1
distributor-threads=1
# The caches are sized up front: the 1M-entry defaults cost ~37 MiB of RSS before the first query.
max-packet-cache-entries=10000
max-cache-entries=10000
# No outgoing notifications or zone transfers to anyone.
primary=no
secondary=no
# No internet here, and a dev stack must not phone home: skip the security-status DNS poll.
security-poll-suffix=
`;
}

/** Applies the schema once, into a temporary file renamed on success, so a crash never leaves half a db. */
async function initDatabase(p: PdnsPaths): Promise<boolean> {
  if (fs.existsSync(p.db)) return false;
  const tmp = `${p.db}.init`;
  fs.rmSync(tmp, { force: true });
  await execFileP('sqlite3', [tmp, `.read ${SCHEMA}`]);
  fs.renameSync(tmp, p.db);
  return true;
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([
    execFileP('id', ['-u', name]).then((r) => Number(r.stdout.trim())),
    execFileP('id', ['-g', name]).then((r) => Number(r.stdout.trim())),
  ]);
  return { uid, gid };
}

async function apiAnswers(ctx: StackContext): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${ctx.ports.dnsApi}/api/v1/servers/localhost`, {
    headers: { 'X-API-Key': ctx.secrets.pdnsApiKey },
    signal: AbortSignal.timeout(1000),
  });
  await res.arrayBuffer();
  return res.ok;
}

/**
 * One UDP query for the SOA of "." (not served here): any well-formed reply with our ID, even REFUSED, proves
 * the DNS listener and the backend answer. Hand-made packet: no resolver library needed for 17 bytes.
 */
export function dnsAnswers(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const id = Math.floor(Math.random() * 0xffff);
    // Header: id, flags 0 (standard query, no recursion), 1 question; question: root name, type SOA, class IN.
    const packet = Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1]);
    const socket = dgram.createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('message', (msg) => done(msg.length >= 12 && msg.readUInt16BE(0) === id && (msg[2] & 0x80) !== 0));
    socket.send(packet, port, host, (err) => {
      if (err) done(false);
    });
  });
}

export async function startPowerdns(ctx: StackContext): Promise<RunningDaemon> {
  const p = paths(ctx);
  await assertPortsFree('powerdns', [ctx.ports.dns, ctx.ports.dnsApi]);
  const ids = await userIds(RUN_AS);
  fs.mkdirSync(p.run, { recursive: true });
  const created = await initDatabase(p);
  if (created) ctx.log.info({ db: p.db }, 'powerdns database created');
  // SQLite writes a journal beside the db file, so pdns needs the folder too, not just the file.
  for (const f of [p.dir, p.run, p.db]) fs.chownSync(f, ids.uid, ids.gid);
  fs.chmodSync(p.dir, 0o750);
  // The config holds the API key: readable by root (which starts pdns_server and pdns_control) only.
  const conf = path.join(p.dir, 'pdns.conf');
  fs.writeFileSync(conf, renderConfig(ctx, p), { mode: 0o600 });
  fs.chmodSync(conf, 0o600);

  return startDaemon({
    name: 'powerdns',
    command: 'pdns_server',
    args: [`--config-dir=${p.dir}`],
    logDir: ctx.logDir,
    ready: async () => (await apiAnswers(ctx)) && (await dnsAnswers(ctx.ports.dns)),
    // Its control socket asks for a clean exit; startDaemon sends SIGKILL if that does not work in time.
    stop: async (child) => {
      try {
        await execFileP('pdns_control', [`--config-dir=${p.dir}`, 'quit'], { timeout: 3000 });
      } catch {
        child.kill('SIGTERM');
      }
    },
    stopTimeoutMs: 5000,
  });
}
