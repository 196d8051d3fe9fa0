import { execFile } from 'node:child_process';

/**
 * SHA512-crypt (`$6$…`) hashes, the format Pure-FTPd and Dovecot both verify with libc's crypt() in a few ms.
 * We shell out to `openssl passwd -6` (~10 ms) because Node has no crypt() and pure-JS versions cost ~120 ms.
 * The password goes over STDIN, never argv (argv is visible to every user in `ps`).
 */
export async function sha512Crypt(password: string, salt?: string): Promise<string> {
  // `-stdin` reads one password per line: a newline would silently split it; NUL cannot cross a pipe intact.
  if (/[\r\n\0]/.test(password)) throw new Error('password may not contain line breaks or NUL');
  if (password.length === 0) throw new Error('password may not be empty');
  // A given salt lets callers check a password against a stored hash (same salt, same result).
  if (salt !== undefined && !/^[./0-9A-Za-z]{1,16}$/.test(salt)) throw new Error('invalid salt');
  const args = ['passwd', '-6', ...(salt === undefined ? [] : ['-salt', salt]), '-stdin'];
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`openssl passwd failed: ${stderr.trim() || err.message}`));
      const hash = stdout.trim();
      if (!/^\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/.test(hash)) return reject(new Error('openssl passwd gave an unexpected hash'));
      resolve(hash);
    });
    child.stdin!.end(`${password}\n`);
  });
}

/** True when `password` hashes to `hash` (a `$6$` hash); false for any other or malformed hash. */
export async function sha512CryptMatches(password: string, hash: string): Promise<boolean> {
  const m = /^\$6\$([./0-9A-Za-z]{1,16})\$/.exec(hash);
  if (!m) return false;
  return (await sha512Crypt(password, m[1])) === hash;
}

/**
 * Several hashes (each with its own random salt) from one `openssl passwd -6 -stdin`, which reads one password
 * per line: a fork of the worker costs more than the hashing, so callers with many passwords spawn once.
 */
export async function sha512CryptMany(passwords: string[]): Promise<string[]> {
  if (passwords.length === 0) return [];
  for (const p of passwords) {
    if (/[\r\n\0]/.test(p)) throw new Error('password may not contain line breaks or NUL');
    if (p.length === 0) throw new Error('password may not be empty');
  }
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['passwd', '-6', '-stdin'], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`openssl passwd failed: ${stderr.trim() || err.message}`));
      const hashes = stdout.trim().split('\n');
      const ok = hashes.length === passwords.length && hashes.every((h) => /^\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/.test(h));
      if (!ok) return reject(new Error('openssl passwd gave unexpected hashes'));
      resolve(hashes);
    });
    child.stdin!.end(passwords.map((p) => `${p}\n`).join(''));
  });
}
