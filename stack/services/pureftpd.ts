import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HostingNode, StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree, greets220 } from '../ports';
import { DEFAULT_PAIR, ensureDefaultPair, pairPaths } from '../../activities/mail-tls';
import { mailLayout } from '../../activities/mail-layout';
import { eximGid } from '../../activities/system-ids';

const run = promisify(execFile);

export interface FtpLayout {
  dir: string;
  /** Text source of truth for virtual users (`pure-pw` format); the ftp activities edit it. */
  passwdFile: string;
  /** Compiled puredb that pure-ftpd reads; re-read live on every login, so no reload is ever needed. */
  pdbFile: string;
  /** Transfer log (CLF), handy to see that an upload really went through this node. */
  logFile: string;
}

/**
 * Where one hosting node keeps its FTP state: everything under `<node.dir>/ftp/`. Only `dir` is needed, so
 * the worker and tests can derive the paths from stack.json's home without a full HostingNode.
 */
export function ftpLayout(node: Pick<HostingNode, 'dir'>): FtpLayout {
  const dir = path.join(node.dir, 'ftp');
  return {
    dir,
    passwdFile: path.join(dir, 'pureftpd.passwd'),
    pdbFile: path.join(dir, 'pureftpd.pdb'),
    logFile: path.join(dir, 'transfer.log'),
  };
}

/** Creates the folder and an empty user database when absent; existing users are kept across restarts. */
async function initLayout(layout: FtpLayout): Promise<void> {
  // The node folder keeps the default 0755 (web servers traverse it); only ftp/ is 0700: the passwd file holds
  // password hashes and only root (pure-ftpd, the worker) reads it. `mode` with `recursive` would apply to both.
  fs.mkdirSync(path.dirname(layout.dir), { recursive: true });
  fs.mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(layout.passwdFile)) fs.writeFileSync(layout.passwdFile, '', { mode: 0o600 });
  if (!fs.existsSync(layout.pdbFile)) {
    await run('pure-pw', ['mkdb', layout.pdbFile, '-f', layout.passwdFile]);
  }
}

/**
 * Starts Pure-FTPd for one hosting node. It runs as root because it chroots each virtual user into the
 * docroot and switches to the content uid; it never daemonises (no `-B`), so `startDaemon` keeps its PID.
 */
export async function startPureftpd(ctx: StackContext, node: HostingNode): Promise<RunningDaemon> {
  const layout = ftpLayout(node);
  const { ftp, ftpPassiveLow, ftpPassiveHigh } = node.ports;
  const name = node.id === ctx.nodeId ? 'pureftpd' : `pureftpd-${node.id}`;
  await assertPortsFree(name, [ftp]);
  await initLayout(layout);
  // FTPS (explicit, AUTH TLS) with the node's pair, the one the mail daemons give names without their own.
  const tls = mailLayout(node).tlsDir;
  await ensureDefaultPair({ dir: tls, eximGid: eximGid() }, `mail-${node.id}.npanel.test`);
  const pair = pairPaths(tls, DEFAULT_PAIR);
  const args = [
    '-S',
    `127.0.0.1,${ftp}`,
    '-l',
    `puredb:${layout.pdbFile}`,
    '-E', // no anonymous FTP: only the virtual users we create
    '-j', // create the home folder at first login if the docroot is not there yet
    '-A', // chroot everyone, whatever the passwd line says
    '-H', // no reverse DNS on each connection (it only slows logins on loopback)
    '-4',
    '-p',
    `${ftpPassiveLow}:${ftpPassiveHigh}`,
    '-P',
    '127.0.0.1', // the address announced in PASV replies
    '-O',
    `clf:${layout.logFile}`,
    '-Y',
    '1', // TLS offered (AUTH TLS); plain sessions stay possible for old clients
    '-2',
    `${pair.cert},${pair.key}`,
  ];
  return startDaemon({
    name,
    command: 'pure-ftpd',
    args,
    logDir: ctx.logDir,
    ready: () => greets220(ftp),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 5_000,
  });
}
