import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Small file helpers for the mail database (one file per mailbox, domain or suspension), where Dovecot and
 * Exim read a file at every lookup: a reader must see the old file or the new one, never half of one.
 */

/**
 * Writes `content` to `file` through a temp file in `tmpDir` and a rename. The temp file lives outside the
 * looked-up folder: a login named like a temp file could otherwise meet a half-set record for a moment.
 * `tmpDir` must be on the same filesystem as `file` (rename is atomic only there).
 */
export async function writeAtomic(
  file: string,
  content: string,
  opts: { tmpDir: string; mode: number; uid: number; gid: number },
): Promise<void> {
  await fs.mkdir(opts.tmpDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(opts.tmpDir, `${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}`);
  try {
    await fs.writeFile(tmp, content, { mode: opts.mode });
    // Owner and mode before the rename: the file is never visible with looser rights.
    await fs.chown(tmp, opts.uid, opts.gid);
    await fs.chmod(tmp, opts.mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when the file was there (and is now gone). */
export async function removeIfExists(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Makes each missing folder of `parts` below `base` with the given owner (mkdir -p would leave root owners). */
export async function mkdirOwned(base: string, parts: string[], opts: { mode: number; uid: number; gid: number }): Promise<void> {
  let dir = base;
  for (const part of parts) {
    dir = path.join(dir, part);
    try {
      await fs.mkdir(dir, { mode: opts.mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      continue;
    }
    await fs.chown(dir, opts.uid, opts.gid);
  }
}

/**
 * Runs jobs with the same key one at a time. One worker serves a node, so an in-process queue is enough; the
 * mail activities key on the domain, so every file of a domain is written by one job at a time.
 */
const queues = new Map<string, Promise<unknown>>();
export function serialised<T>(key: string, job: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(job, job);
  const settled = next.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}
