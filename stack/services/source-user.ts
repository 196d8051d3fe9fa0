import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StackContext } from '../context';

const run = promisify(execFile);

/** The login on the migration source. One machine-wide system user, shared by every stack on this machine. */
export const SOURCE_USER = 'npanelsrc';
/**
 * Its passwd home is fixed, not a stack folder: the dev stack and the test stack share the user but each has
 * its own MySQL port and password. Each stack's sshd sets HOME to `<home>/source/home` (SetEnv), so `~/.my.cnf`
 * there is that stack's own, and two stacks never fight over one /etc/passwd entry.
 */
const SYSTEM_HOME = `/var/lib/${SOURCE_USER}`;

export function sourceLayout(ctx: StackContext) {
  const dir = path.join(ctx.home, 'source');
  return {
    dir,
    config: path.join(dir, 'sshd_config'),
    hostKey: path.join(dir, 'ssh_host_ed25519_key'),
    pidFile: path.join(dir, 'sshd.pid'),
    authorizedKeysDir: path.join(dir, 'authorized_keys'),
    /** The stack's client key: the worker logs in to the source with it. */
    clientKey: path.join(dir, 'id_ed25519'),
    userHome: path.join(dir, 'home'),
    docroot: path.join(dir, 'sites', 'shop.example', 'public_html'),
  };
}

export type SourceLayout = ReturnType<typeof sourceLayout>;

async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/** Creates the system user once; a concurrent creation by another stack (exit 9: exists) is fine. */
export async function ensureSourceUser(): Promise<{ uid: number; gid: number }> {
  let ids = await userIds(SOURCE_USER);
  if (!ids) {
    try {
      await run('useradd', ['--system', '--user-group', '--shell', '/bin/bash', '--home-dir', SYSTEM_HOME, '--create-home', SOURCE_USER]);
    } catch (err) {
      if ((err as { code?: number }).code !== 9) throw err;
    }
    ids = await userIds(SOURCE_USER);
    if (!ids) throw new Error(`could not create the system user ${SOURCE_USER}`);
  }
  // useradd leaves the password `!` (locked); with UsePAM no, sshd refuses a locked account even with a key.
  // `*` means "no password can match" without the lock. Checked every time: cheap, and heals a half-made user.
  const status = (await run('passwd', ['-S', SOURCE_USER])).stdout.split(/\s+/)[1];
  if (status === 'L') await run('usermod', ['-p', '*', SOURCE_USER]);
  return ids;
}
