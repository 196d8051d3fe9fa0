import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sha512Crypt } from '../../activities/crypt-hash';
import type { HostingNode, StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree, canConnect } from '../ports';
import { renderDenyDict, renderDovecotConfig, renderUsersDict } from './dovecot-config';
import { mailLayout, VMAIL_GID, VMAIL_UID } from '../../activities/mail-layout';
import { DEFAULT_PAIR, ensureDefaultPair, pairPaths, writeDovecotSni } from '../../activities/mail-tls';
import { dovecotGid, eximGid } from '../../activities/system-ids';
import { initMailLayout } from './mail-dirs';

const run = promisify(execFile);

/** Only used by the readiness check; `.invalid` can never be a customer domain. */
export const DOVECOT_PROBE_USER = 'npanel-probe@probe.invalid';

/** Unique per stack and node (two stacks on one machine must not share doveadm sockets or log prefixes). */
function instanceName(node: HostingNode): string {
  return `npanel-${node.id}-${crypto.createHash('sha256').update(node.dir).digest('hex').slice(0, 8)}`;
}

/** Writes a file only when its content changed, so a restart does not touch mtimes needlessly. */
function writeIfChanged(file: string, content: string, mode: number): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return;
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}

/**
 * Dovecot refuses to start while `master.pid` names a live process. After a SIGKILL the file stays, and its
 * PID may since belong to something else: drop it unless that process is a Dovecot master.
 */
function removeStalePidFile(baseDir: string): void {
  const pidFile = path.join(baseDir, 'master.pid');
  try {
    const pid = fs.readFileSync(pidFile, 'utf8').trim();
    if (!/^\d+$/.test(pid) || fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'dovecot') fs.rmSync(pidFile, { force: true });
  } catch {
    fs.rmSync(pidFile, { force: true });
  }
}

/** True when Dovecot's auth answers a real password check (an open port alone says nothing about auth). */
/** Throws doveadm's own words when the probe login fails, so a start that never gets ready says why. */
async function assertAuthWorks(conf: string, user: string, password: string): Promise<void> {
  try {
    await run('doveadm', ['-c', conf, 'auth', 'test', user, password], { timeout: 5_000 });
  } catch (err) {
    // Only doveadm's output: the error's own message repeats the command line, probe password included.
    const e = err as { stderr?: string; stdout?: string; killed?: boolean; code?: unknown };
    const said = `${e.stderr ?? ''} ${e.stdout ?? ''}`.replace(/\s+/g, ' ').trim().slice(0, 300);
    throw new Error(`doveadm auth test failed${e.killed ? ' (timed out after 5 s)' : ` (exit ${String(e.code)})`}: ${said || 'no output'}`);
  }
}

/**
 * Starts Dovecot (IMAP + LMTP) for one hosting node in the foreground (`-F`), with a config of its own.
 * Ready = `doveadm auth test` of a probe user whose random password is made at each start (so no known
 * password ever exists; it is in doveadm's argv for a few ms, which is harmless for a per-start secret),
 * plus every listener (IMAP, IMAPS, LMTP) accepting connections.
 */
export async function startDovecot(ctx: StackContext, node: HostingNode): Promise<RunningDaemon> {
  const layout = mailLayout(node);
  const name = node.id === ctx.nodeId ? 'dovecot' : `dovecot-${node.id}`;
  await assertPortsFree(name, [node.ports.imap, node.ports.imaps, node.ports.lmtp]);
  initMailLayout(layout);
  const hostname = `mail-${node.id}.npanel.test`;
  await ensureDefaultPair({ dir: layout.tlsDir, eximGid: eximGid() }, hostname);
  const defaultPair = pairPaths(layout.tlsDir, DEFAULT_PAIR);
  // The include must exist and match the pairs on disk before Dovecot reads it (certificates kept across restarts).
  writeDovecotSni({ dir: layout.tlsDir, dovecotSniConf: layout.dovecotSniConf });

  writeIfChanged(
    layout.dovecotConf,
    renderDovecotConfig({
      layout,
      instanceName: instanceName(node),
      hostname,
      imapPort: node.ports.imap,
      imapsPort: node.ports.imaps,
      defaultCert: defaultPair.cert,
      defaultKey: defaultPair.key,
      eximGroup: 'Debian-exim',
      lmtpPort: node.ports.lmtp,
      vmailUid: VMAIL_UID,
      vmailGid: VMAIL_GID,
      bruteForceDelays: false,
    }),
    0o644,
  );
  // Dovecot never removes its sockets. With penalties off (mode 0) the anvil-auth-penalty socket is not made,
  // but a stale one from an older config would make auth retry connecting to it for 5 s at every start.
  fs.rmSync(path.join(layout.dovecotBaseDir, 'anvil-auth-penalty'), { force: true });
  removeStalePidFile(layout.dovecotBaseDir);
  writeIfChanged(layout.dovecotUsersDict, renderUsersDict(layout), 0o644);
  writeIfChanged(layout.dovecotDenyDict, renderDenyDict(layout), 0o644);

  // Hex, not base64url: the password is a doveadm argument, and one starting with '-' (1 start in 64) was
  // taken for an option ("invalid option"), so that start never got ready (a CI failure).
  const probePassword = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(layout.dovecotProbePasswd, `${DOVECOT_PROBE_USER}:${await sha512Crypt(probePassword)}\n`, { mode: 0o640 });
  fs.chownSync(layout.dovecotProbePasswd, 0, dovecotGid());

  return startDaemon({
    name,
    command: 'dovecot',
    args: ['-F', '-c', layout.dovecotConf],
    logDir: ctx.logDir,
    ready: async () => {
      await assertAuthWorks(layout.dovecotConf, DOVECOT_PROBE_USER, probePassword);
      return (await canConnect(node.ports.imap)) && (await canConnect(node.ports.imaps)) && (await canConnect(node.ports.lmtp));
    },
    readyTimeoutMs: 15_000,
    stopTimeoutMs: 5_000,
  });
}
