/**
 * The stack's side of the mail layout: the daemons' system ids and the folders made before Dovecot and Exim
 * start. The layout itself (paths, the virtual mail ids) is production code: activities/mail-layout.ts.
 */
import fs from 'node:fs';
import type { MailLayout } from '../../activities/mail-layout';

/** A system group's id (`dovecot`, `Debian-exim`), read from /etc/group: the daemons' packages create them. */
export function groupId(name: string): number {
  const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const gid = line ? Number(line.split(':')[2]) : NaN;
  if (!Number.isInteger(gid)) throw new Error(`group "${name}" not found (is its package installed?)`);
  return gid;
}

/** A system user's id, read from /etc/passwd. */
export function userId(name: string): number {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const uid = line ? Number(line.split(':')[2]) : NaN;
  if (!Number.isInteger(uid)) throw new Error(`user "${name}" not found (is its package installed?)`);
  return uid;
}

/** Dovecot's auth process runs as `dovecot`: it reads the user records. */
export const dovecotGid = () => groupId('dovecot');
/** Exim gives up root under `-C` and runs as `Debian-exim`: it lists the database folders (dsearch). */
export const eximGid = () => groupId('Debian-exim');
export const eximUid = () => userId('Debian-exim');

/**
 * Creates what is absent and keeps what exists (mailboxes, maildirs, suspensions survive restarts).
 * Who may see what: the database folders are root:Debian-exim 0751 (Exim lists them to check recipients,
 * everyone else may only traverse them) and each record inside is root:dovecot 0640 (only Dovecot's auth
 * reads password hashes). Users of the machine can thus neither list mailboxes nor read a hash.
 */
export function initMailLayout(layout: MailLayout): void {
  const eximGroup = eximGid();
  fs.mkdirSync(layout.dir, { recursive: true, mode: 0o755 });
  fs.mkdirSync(layout.dovecotDir, { recursive: true, mode: 0o755 });
  // Dovecot fixes the modes of base_dir itself; state_dir holds only its own small state files.
  fs.mkdirSync(layout.dovecotBaseDir, { recursive: true, mode: 0o755 });
  fs.mkdirSync(layout.dovecotStateDir, { recursive: true, mode: 0o750 });
  for (const dir of [layout.dbDir, layout.usersDir, layout.domainsDir, layout.suspendedDir]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o751 });
    fs.chownSync(dir, 0, eximGroup);
    fs.chmodSync(dir, 0o751);
  }
  fs.mkdirSync(layout.vmailDir, { recursive: true, mode: 0o755 });
}
