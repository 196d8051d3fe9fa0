import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { ALIAS, type SshCredentials } from './ssh-credentials';

export interface SshMaster {
  /** True once the master is logged in and its control socket accepts sessions; false if it gave up. */
  ready: Promise<boolean>;
  stop(): void;
}

/**
 * An OpenSSH connection-sharing master for one transfer: logging in to a source costs ~0.2 s (key exchange,
 * authentication, sshd's re-exec), and started at the beginning of a sync it logs in while the ssh2 listing
 * runs, so rsync's own ssh finds a ready connection instead of paying the login after the listing
 * (bench/migrate.ts). Same credentials and pinned host key as rsync's ssh; `setpriv --pdeathsig` ends it
 * with the worker. If it fails (or is slow), rsync simply logs in by itself.
 */
export function startSshMaster(creds: SshCredentials, timeoutMs = 10_000): SshMaster {
  const child = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', ...creds.words, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=no', '-N', ALIAS],
    {
      env: creds.env,
      stdio: 'ignore',
    },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  const started = Date.now();
  const ready = new Promise<boolean>((resolve) => {
    const check = () => {
      if (fs.existsSync(creds.controlPath)) return resolve(true);
      if (exited || Date.now() - started > timeoutMs) return resolve(false);
      setTimeout(check, 10);
    };
    check();
  });
  return {
    ready,
    stop: () => {
      if (!exited) child.kill('SIGTERM');
    },
  };
}
