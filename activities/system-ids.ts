/**
 * Ids of the system users and groups the mail daemons run as. The daemons' Debian packages create them; the
 * activities need them to give a file to the daemon that reads it (a key to Exim, a record to Dovecot's auth),
 * and the stack needs them to make the folders those daemons read.
 */
import fs from 'node:fs';

function idFrom(file: '/etc/group' | '/etc/passwd', name: string): number {
  const line = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const id = line ? Number(line.split(':')[2]) : NaN;
  if (!Number.isInteger(id)) throw new Error(`${file === '/etc/group' ? 'group' : 'user'} "${name}" not found (is its package installed?)`);
  return id;
}

/** A system group's id (`dovecot`, `Debian-exim`), read from /etc/group. */
export const groupId = (name: string): number => idFrom('/etc/group', name);
/** A system user's id, read from /etc/passwd. */
export const userId = (name: string): number => idFrom('/etc/passwd', name);

/** Dovecot's auth process runs as `dovecot`: it reads the user records. */
export const dovecotGid = () => groupId('dovecot');
/** Exim gives up root under `-C` and runs as `Debian-exim`: it lists the database folders (dsearch) and reads the mail keys. */
export const eximGid = () => groupId('Debian-exim');
export const eximUid = () => userId('Debian-exim');
