import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SshTarget } from './ssh-connect';

/**
 * The short-lived files OpenSSH needs for one rsync run (private key, pinned known_hosts, askpass helper), in
 * a 0700 folder `<tmp>/npanel-ssh-<pid>-XXXXXX` that the run removes when it ends. A SIGKILLed worker cannot
 * remove its own, so every new run (and the worker at start, through createMigrationActivities) first sweeps
 * folders whose owning process is gone. The pid in the name, not the age, decides: two workers on one machine
 * (a rolling restart, several dev stacks) never remove each other's live folders, and a dead worker's key
 * goes at the next start instead of after the longest activity timeout. The age rule only covers a dead
 * worker's pid that was reused by another process.
 */

const PREFIX = 'npanel-ssh-';
/** The longest migration activity may run (startToCloseTimeout 6 h, workflows/activity-proxies.ts). */
const MAX_AGE_MS = 6 * 3600_000;

export const ALIAS = 'npanel-migration-source';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes our credential folders left by dead processes; returns the names removed. */
export function sweepStaleCredentials(tmp = os.tmpdir(), now = Date.now()): string[] {
  const uid = process.getuid?.();
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^npanel-ssh-(\d+)-[A-Za-z0-9]+$/.exec(name);
    const full = path.join(tmp, name);
    const st = fs.lstatSync(full, { throwIfNoEntry: false });
    // Only real folders we own: /tmp is shared, and a symlink planted there must never be followed.
    if (!st || !st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
    // A name without a pid (an older release's) is judged by age alone.
    const orphan = m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
    if (orphan || now - st.mtimeMs > MAX_AGE_MS) {
      fs.rmSync(full, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export interface SshCredentials {
  dir: string;
  /** The ssh command line (key, pinned known_hosts, control socket path), without a ControlMaster choice. */
  words: string[];
  /** The connection-sharing socket a master (activities/ssh-master.ts) listens on once it is logged in. */
  controlPath: string;
  /**
   * The `-e` command for rsync: words free of blanks (rsync splits it on blanks). It rides on the master's
   * connection when one is up, and connects by itself when none is (ControlMaster=no never starts one).
   */
  sshCommand: string;
  env: NodeJS.ProcessEnv;
  remove(): void;
}

/** A fresh credentials folder and the OpenSSH command line that uses it, host key pinned. */
export function sshCredentials(t: SshTarget, hostKey: string): SshCredentials {
  sweepStaleCredentials();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  fs.chmodSync(dir, 0o700);
  fs.writeFileSync(path.join(dir, 'known_hosts'), `${ALIAS} ${hostKey}\n`, { mode: 0o600 });
  const words = [
    'ssh',
    '-F',
    '/dev/null',
    '-p',
    String(t.port),
    '-l',
    t.user,
    '-o',
    `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    // rsync dials the alias; HostName is the real address and HostKeyAlias names the pinned known_hosts entry.
    '-o',
    `HostName=${t.host}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `HostKeyAlias=${ALIAS}`,
    '-o',
    'ConnectTimeout=15',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'Compression=no',
    '-o',
    `ControlPath=${path.join(dir, 'mux')}`,
    // AES-GCM uses the CPU's AES instructions: the cheapest cipher here (see bench/migrate.ts).
    '-c',
    'aes128-gcm@openssh.com,chacha20-poly1305@openssh.com',
  ];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  if (t.privateKey) {
    const key = path.join(dir, 'id');
    fs.writeFileSync(key, t.privateKey.endsWith('\n') ? t.privateKey : `${t.privateKey}\n`, { mode: 0o600 });
    words.push('-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=publickey');
  } else {
    // No sshpass on hosting servers: OpenSSH asks this helper, which echoes the password from rsync's env only.
    const askpass = path.join(dir, 'askpass');
    fs.writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$NPANEL_SSH_PASSWORD"\n', { mode: 0o700 });
    words.push('-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'NumberOfPasswordPrompts=1');
    Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none', NPANEL_SSH_PASSWORD: t.password });
  }
  if (words.some((w) => /\s/.test(w))) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error('ssh command word with a blank');
  }
  return {
    dir,
    words,
    controlPath: path.join(dir, 'mux'),
    sshCommand: [...words, '-o', 'ControlMaster=no'].join(' '),
    env,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
