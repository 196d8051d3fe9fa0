import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { isUsername, USERNAME_RULE } from '../common/names';
import { sha512Crypt, sha512CryptMatches } from './crypt-hash';
import { FAILURE } from '../common/failure-types';

const run = promisify(execFile);

export interface FtpConfig {
  /** Pure-FTPd text passwd file (the source of truth we edit). */
  passwdFile: string;
  /** Compiled puredb that pure-ftpd reads live on every login. */
  pdbFile: string;
  purePwBin?: string;
  /** Owner of the web content (default 2000:2000, shared with the files activities that make docroots). */
  uid: number;
  gid: number;
}

/**
 * A suspended user keeps its hash behind this prefix (as `/etc/shadow` does): crypt() can never produce a
 * string starting with `!`, so every login fails, and unsuspending restores the very same password.
 */
const SUSPENDED = '!';
/** Fields after the home folder in a pure-pw line: bandwidth, ratios, quotas, IP and time limits, all unset. */
const EMPTY_LIMITS = ':'.repeat(12);

function checkName(username: unknown): string {
  // The FTP login is the account's username: the same rule (common/names/username.ts).
  if (!isUsername(username)) {
    throw ApplicationFailure.nonRetryable(
      `invalid FTP user name ${JSON.stringify(username)}: ${USERNAME_RULE}, not reserved`,
      FAILURE.FtpInvalidName,
    );
  }
  return username;
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < 1 || password.length > 128 || /[\r\n\0]/.test(password)) {
    throw ApplicationFailure.nonRetryable('invalid FTP password: 1-128 characters, no line breaks', FAILURE.FtpInvalidPassword);
  }
  return password;
}

/** The home folder becomes a field of a colon-separated file and a chroot: absolute, normalised, no `..`. */
function checkHome(homeDir: unknown): string {
  const ok =
    typeof homeDir === 'string' &&
    path.posix.isAbsolute(homeDir) &&
    homeDir.length < 4096 &&
    !/[:\r\n\0]/.test(homeDir) &&
    !homeDir.split('/').includes('..');
  if (!ok)
    throw ApplicationFailure.nonRetryable(
      `invalid FTP home ${JSON.stringify(homeDir)}: want an absolute path without '..'`,
      FAILURE.FtpInvalidHome,
    );
  const normal = path.posix.normalize(homeDir).replace(/\/+$/, '');
  if (normal === '') throw ApplicationFailure.nonRetryable('FTP home may not be /', FAILURE.FtpInvalidHome);
  return normal;
}

interface Entry {
  username: string;
  hash: string;
  suspended: boolean;
  uid: number;
  gid: number;
  home: string;
  /** The original line, kept verbatim when we do not touch the user. */
  line: string;
}

function parse(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(':');
    const stored = f[1] ?? '';
    const suspended = stored.startsWith(SUSPENDED);
    // `/./` marks the chroot point in pure-pw's format; we always chroot at the home itself.
    const home = (f[5] ?? '').replace(/\/\.\/?$/, '');
    entries.push({
      username: f[0]!,
      hash: suspended ? stored.slice(1) : stored,
      suspended,
      uid: Number(f[2]),
      gid: Number(f[3]),
      home,
      line,
    });
  }
  return entries;
}

function render(e: Omit<Entry, 'line'>): string {
  return `${e.username}:${e.suspended ? SUSPENDED : ''}${e.hash}:${e.uid}:${e.gid}::${e.home}/./${EMPTY_LIMITS}`;
}

/** One edit of the passwd file: given the entries as they are, the entries it wants (if any change) and its answer. */
type Edit<T> = (entries: Entry[]) => Promise<{ next?: Entry[]; result: T }>;

interface PendingEdit {
  edit: Edit<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Edits of one passwd file run one at a time (each is read-modify-write; two interleaved would lose a user),
 * and are group-committed: the edits that arrive while a `pure-pw mkdb` runs are applied together on one read,
 * then written with ONE rename and ONE mkdb. A burst of 50 accounts used to run 50 mkdbs back to back (~14 s
 * for the last FTP user under load, bench/provision.ts); now a handful. An edit that throws (bad input) is left
 * out and fails alone; a failed write fails every edit of its batch (each retries). One worker serves a node,
 * so an in-process queue per file is enough.
 */
class PasswdFile {
  private waiting: PendingEdit[] = [];
  private running = false;

  constructor(
    private readonly read: () => Promise<Entry[]>,
    private readonly write: (entries: Entry[]) => Promise<void>,
  ) {}

  edit<T>(edit: Edit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ edit, resolve: resolve as (v: unknown) => void, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting.length > 0) await this.commit(this.waiting.splice(0));
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: PendingEdit[]): Promise<void> {
    let entries: Entry[];
    try {
      entries = await this.read();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const applied: { p: PendingEdit; result: unknown }[] = [];
    let changed = false;
    for (const p of batch) {
      try {
        const { next, result } = await p.edit(entries);
        if (next) {
          entries = next;
          changed = true;
        }
        applied.push({ p, result });
      } catch (err) {
        p.reject(err);
      }
    }
    if (changed) {
      try {
        await this.write(entries);
      } catch (err) {
        for (const a of applied) a.p.reject(err);
        return;
      }
    }
    for (const a of applied) a.p.resolve(a.result);
  }
}

const files = new Map<string, PasswdFile>();

export function createFtpActivities(config: FtpConfig) {
  const purePw = config.purePwBin ?? 'pure-pw';

  async function read(): Promise<Entry[]> {
    try {
      return parse(await fs.readFile(config.passwdFile, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Write a temp file and rename it (a reader never sees half a file), then compile the puredb. */
  async function write(entries: Entry[]): Promise<void> {
    const text = entries.map((e) => e.line + '\n').join('');
    const tmp = `${config.passwdFile}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, text, { mode: 0o600 });
    try {
      await fs.rename(tmp, config.passwdFile);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    // pure-pw mkdb writes its own temp file and renames it: pure-ftpd sees the old or the new db, never a mix.
    await run(purePw, ['mkdb', config.pdbFile, '-f', config.passwdFile], { timeout: 30_000 });
  }

  let file = files.get(config.passwdFile);
  if (!file) {
    file = new PasswdFile(read, write);
    files.set(config.passwdFile, file);
  }
  const passwd = file;

  return {
    /** Creates the user chrooted to `homeDir`, or brings an existing one to this password and home. */
    async ensureFtpUser(input: { username: string; password: string; homeDir: string }) {
      const username = checkName(input.username);
      const password = checkPassword(input.password);
      const home = checkHome(input.homeDir);
      // Hashed before queueing: the queue holds only the file edit, not the hashing of every caller.
      const fresh = await sha512Crypt(password);
      return passwd.edit(async (entries) => {
        const existing = entries.find((e) => e.username === username);
        const same =
          existing !== undefined &&
          existing.home === home &&
          existing.uid === config.uid &&
          existing.gid === config.gid &&
          existing.line === render(existing) &&
          (await sha512CryptMatches(password, existing.hash));
        // Nothing to do: leave the file (and the db) untouched, so a retried activity changes nothing. The hash
        // goes back to the workflow (encrypted in history by the codec): the inventory records it instead of
        // hashing the password a second time.
        if (same) return { result: { username, homeDir: home, created: false, changed: false, passwordHash: existing.hash } };
        // A suspended user stays suspended when its password changes; only setFtpUserSuspended lifts that.
        const entry = { username, hash: fresh, suspended: existing?.suspended ?? false, uid: config.uid, gid: config.gid, home };
        const line = render(entry);
        const next = existing ? entries.map((e) => (e === existing ? { ...entry, line } : e)) : [...entries, { ...entry, line }];
        return { next, result: { username, homeDir: home, created: !existing, changed: true, passwordHash: entry.hash } };
      });
    },

    /** Deletes the user if present; open sessions end at their next command (the db is read per login). */
    async removeFtpUser(input: { username: string }) {
      const username = checkName(input.username);
      return passwd.edit(async (entries) => {
        const next = entries.filter((e) => e.username !== username);
        if (next.length === entries.length) return { result: { username, removed: false } };
        return { next, result: { username, removed: true } };
      });
    },

    /**
     * Refuses (or restores) logins without losing the password. A missing user is reported, not thrown:
     * suspend and its compensation must stay idempotent for accounts that never had FTP.
     */
    async setFtpUserSuspended(input: { username: string; suspended: boolean }) {
      const username = checkName(input.username);
      if (typeof input.suspended !== 'boolean') {
        throw ApplicationFailure.nonRetryable('suspended must be a boolean', FAILURE.FtpInvalidInput);
      }
      const suspended = input.suspended;
      return passwd.edit(async (entries) => {
        const existing = entries.find((e) => e.username === username);
        if (!existing) return { result: { username, suspended, found: false, changed: false } };
        if (existing.suspended === suspended) return { result: { username, suspended, found: true, changed: false } };
        // Touch only the password field, so any limits an operator set on the line survive.
        const fields = existing.line.split(':');
        fields[1] = (suspended ? SUSPENDED : '') + existing.hash;
        const updated = { ...existing, suspended, line: fields.join(':') };
        return { next: entries.map((e) => (e === existing ? updated : e)), result: { username, suspended, found: true, changed: true } };
      });
    },
  };
}

export type FtpActivities = ReturnType<typeof createFtpActivities>;
