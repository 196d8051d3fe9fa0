import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import crypto from 'node:crypto';

/**
 * SHA512-crypt (`$6$…`) hashes, the format Pure-FTPd and Dovecot both verify with libc's crypt() in a few ms.
 * Node has no crypt() and pure-JS versions cost ~120 ms of the event loop. We used to spawn `openssl passwd -6`
 * per hash (~10 ms), but forking the big worker process costs far more than the hash: under a burst of accounts
 * the spawns were ~38% of the worker's busy time. So one long-lived `perl` (perl-base is part of every Debian,
 * and its crypt() is libc's, the very function Dovecot and Pure-FTPd verify with) hashes one line at a time:
 * a few ms of its CPU per hash and no fork. Passwords go over its STDIN, never argv (argv is visible to every user in `ps`).
 */
const HASH_RE = /^\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/;
const SALT_RE = /^[./0-9A-Za-z]{1,16}$/;
const SALT_CHARS = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Reads "salt<TAB>password" lines, answers one crypt() line each; unbuffered, so each answer comes at once. */
const PERL_LOOP =
  '$|=1; while (my $l = <STDIN>) { chomp $l; my ($s, $p) = split(/\\t/, $l, 2); my $h = crypt($p, "\\$6\\$$s\\$"); print((defined $h ? $h : "*"), "\\n") }';

interface Pending {
  resolve: (hash: string) => void;
  reject: (err: Error) => void;
}

/** One hasher per process; answers come back in request order, so a FIFO of callers is the whole protocol. */
class Hasher {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly pending: Pending[] = [];
  private buffered = '';

  hash(password: string, salt: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = this.start();
      this.pending.push({ resolve, reject });
      // Held only while an answer is owed: an idle hasher must not keep a finished process (or test) alive.
      setHeld(child, true);
      child.stdin.write(`${salt}\t${password}\n`);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('perl', ['-e', PERL_LOOP], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4096);
    });
    const fail = (err: Error) => {
      if (this.child !== child) return;
      this.child = null;
      this.buffered = '';
      // Everything in flight fails (the caller retries); the next hash starts a fresh perl.
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    child.on('error', (err) => fail(new Error(`crypt helper (perl) failed: ${err.message}`)));
    child.on('exit', (code, signal) => fail(new Error(`crypt helper (perl) exited (${signal ?? code}): ${stderr.trim()}`)));
    child.stdin.on('error', () => undefined); // reported by 'exit'
    setHeld(child, false);
    for (const s of [child.stdin, child.stderr] as unknown as Refable[]) s.unref();
    return child;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const p = this.pending.shift();
      if (!p) continue;
      if (HASH_RE.test(line)) p.resolve(line);
      else p.reject(new Error('crypt() gave an unexpected hash'));
    }
    if (this.pending.length === 0 && this.child) setHeld(this.child, false);
  }
}

type Refable = { ref(): void; unref(): void };

/** The child and its stdout pipe keep the event loop alive only while `held`. */
function setHeld(child: ChildProcessWithoutNullStreams, held: boolean): void {
  for (const r of [child, child.stdout] as unknown as Refable[]) held ? r.ref() : r.unref();
}

const hasher = new Hasher();

function randomSalt(): string {
  // 16 characters, as `openssl passwd -6` makes them; 256 % 64 = 0, so every character is equally likely.
  return [...crypto.randomBytes(16)].map((b) => SALT_CHARS[b % 64]).join('');
}

function checkPassword(password: string): void {
  // One password per line on the helper's STDIN: a newline would split it, NUL cannot reach crypt() intact.
  if (/[\r\n\0]/.test(password)) throw new Error('password may not contain line breaks or NUL');
  if (password.length === 0) throw new Error('password may not be empty');
}

export async function sha512Crypt(password: string, salt?: string): Promise<string> {
  checkPassword(password);
  // A given salt lets callers check a password against a stored hash (same salt, same result).
  if (salt !== undefined && !SALT_RE.test(salt)) throw new Error('invalid salt');
  return hasher.hash(password, salt ?? randomSalt());
}

/** True when `password` hashes to `hash` (a `$6$` hash); false for any other or malformed hash. */
export async function sha512CryptMatches(password: string, hash: string): Promise<boolean> {
  const m = /^\$6\$([./0-9A-Za-z]{1,16})\$/.exec(hash);
  if (!m) return false;
  return (await sha512Crypt(password, m[1])) === hash;
}

/** Several hashes, each with its own random salt (all checked before any is hashed). */
export async function sha512CryptMany(passwords: string[]): Promise<string[]> {
  for (const p of passwords) checkPassword(p);
  return Promise.all(passwords.map((p) => sha512Crypt(p)));
}
