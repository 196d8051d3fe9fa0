import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree } from '../ports';
import { daemonPathProblem } from '../state-home';
import { ensureSourceUser, sourceLayout, SOURCE_USER, type SourceLayout } from './source-user';
import { sampleMailboxes } from './source-sample';

export { seedSampleSource } from './source-sample';
export { sourceLayout, SOURCE_USER } from './source-user';

const run = promisify(execFile);

async function ensureKey(file: string, comment: string): Promise<void> {
  if (fs.existsSync(file) && fs.existsSync(`${file}.pub`)) return;
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

function renderConfig(ctx: StackContext, l: SourceLayout): string {
  return `# Written by npanel at every start: edit stack/services/ssh-source.ts, not this file.
Port ${ctx.ports.ssh}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey ${l.hostKey}
PidFile ${l.pidFile}
AuthorizedKeysFile ${l.authorizedKeysDir}/%u
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers ${SOURCE_USER}
UsePAM no
StrictModes yes
UseDNS no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PrintMotd no
SetEnv HOME=${l.userHome}
Subsystem sftp internal-sftp
LogLevel INFO
`;
}

/** Ready = the server sends its SSH banner (it forks per connection after loading the host key). */
function sshBanner(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('SSH-2.0-')));
  });
}

/** The source server's host key fingerprint as OpenSSH prints it: SHA256 of the key blob, base64 without padding. */
export function hostKeyFingerprint(pubKeyFile: string): string {
  const blob = Buffer.from(fs.readFileSync(pubKeyFile, 'utf8').trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** What the worker and tests need to reach the source (`stack.json` → `migrationSource`). */
export function sshSourceInfo(ctx: StackContext) {
  const l = sourceLayout(ctx);
  return {
    host: '127.0.0.1',
    port: ctx.ports.ssh,
    user: SOURCE_USER,
    privateKey: l.clientKey,
    hostKeyFingerprint: hostKeyFingerprint(`${l.hostKey}.pub`),
    docroot: l.docroot,
    databases: ['shop'],
    /** Maildirs of the sample site's mailboxes (added later; older stack.json files lack the key). */
    mailboxes: sampleMailboxes(ctx),
  };
}

/** A second sshd playing "another server" for migrations: own host key and config, key-only, loopback. */
export async function startSshSource(ctx: StackContext): Promise<RunningDaemon> {
  const l = sourceLayout(ctx);
  // sshd_config splits on whitespace and treats quotes specially: refuse such a home rather than mis-render it.
  if (/[\s"'#\\]/.test(l.dir))
    throw new Error(`ssh-source: the stack home ${JSON.stringify(ctx.home)} may not contain spaces, quotes, # or backslashes`);
  await assertPortsFree('ssh-source', [ctx.ports.ssh]);
  const ids = await ensureSourceUser();
  fs.mkdirSync(l.authorizedKeysDir, { recursive: true, mode: 0o755 });
  fs.chmodSync(l.dir, 0o755);
  // sshd's StrictModes ignores keys below a folder others may write, silently for the client: say it at start.
  const unsafe = daemonPathProblem(l.authorizedKeysDir);
  if (unsafe) throw new Error(`ssh-source: ${unsafe}; put the stack home elsewhere`);
  fs.mkdirSync(l.userHome, { recursive: true, mode: 0o700 });
  fs.chownSync(l.userHome, ids.uid, ids.gid);
  // sshd's privilege-separation chroot; the package makes it at boot through tmpfiles, which we do not run.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  await ensureKey(l.hostKey, 'npanel-source-host');
  await ensureKey(l.clientKey, 'npanel-stack');
  // root-owned and 0644: StrictModes accepts root as owner, and the user cannot add keys of its own.
  fs.writeFileSync(path.join(l.authorizedKeysDir, SOURCE_USER), fs.readFileSync(`${l.clientKey}.pub`), { mode: 0o644 });
  fs.writeFileSync(l.config, renderConfig(ctx, l), { mode: 0o644 });
  fs.rmSync(l.pidFile, { force: true });
  return startDaemon({
    name: 'ssh-source',
    // sshd re-executes itself per connection, so it must be called by its absolute path.
    command: '/usr/sbin/sshd',
    args: ['-D', '-e', '-f', l.config],
    logDir: ctx.logDir,
    ready: () => sshBanner(ctx.ports.ssh),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 5_000,
  });
}
