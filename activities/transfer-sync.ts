import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { remoteCommand, checkRemotePath } from './remote-quote';
import { sshConnect, type SshSession, type SshTarget } from './ssh-connect';
import { excludeList, manifestCommand, parseManifest, type Manifest, type Refused } from './transfer-manifest';
import { localChecksums, rsyncPull } from './transfer-rsync';
import { removeEscapingLinks } from './symlink-resolve';
import { sshCredentials, type SshCredentials } from './ssh-credentials';
import { startSshMaster, type SshMaster } from './ssh-master';
import { FAILURE } from '../common/failure-types';

/**
 * One folder from the source to this node, over one ssh2 session (listing, checksums) plus rsync's OpenSSH
 * (riding on a connection master that logs in while the listing runs, activities/ssh-master.ts):
 * manifest (judged locally) → rsync of what is missing or changed → verification. A first pass (or a retry)
 * compares sha256 of every file on both sides; a delta pass compares sha256 of what rsync copied and size +
 * mtime of everything else against the manifest (what rsync itself trusts). A retried or resumed attempt starts its counters
 * from what is already on disk (the last heartbeat is reported as where it resumed): rsync skips complete
 * files, so only the file in flight at the crash is sent again.
 */

export interface SyncInput {
  source: SshTarget;
  remoteDir: string;
  localDir: string;
  /** initial: checksum every file; delta: only those this pass copied. */
  pass: 'initial' | 'delta';
  owner: { uid: number; gid: number };
  /** Owner-only file modes (maildirs). */
  private?: boolean;
  /**
   * The source's host key as the preflight verified it (`<type> <base64>`): with it the OpenSSH login for rsync
   * starts at once, beside the listing; without it, once ssh2 has verified the key.
   */
  hostKey?: string;
}

export interface SyncProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
  phase: 'copy' | 'checksum';
}

export interface SyncResult {
  totalFiles: number;
  totalBytes: number;
  /** Files and bytes this attempt copied (rsync's count), and what crossed the wire as literal data. */
  copiedFiles: number;
  copiedBytes: number;
  literalBytes: number;
  /** On disk and complete before this attempt started (a resume's head start). */
  alreadyPresentBytes: number;
  resumedFrom: SyncProgress | null;
  checksummed: number;
  refused: Refused[];
  refusedCount: number;
  /** sha256 of the top-level index file, for the HTTP verification (first pass only). */
  index: { name: string; sha256: string } | null;
  attempt: number;
  /** Where the time went: listing (connect + find), rsync, verification. */
  timings: { listMs: number; copyMs: number; verifyMs: number };
}

/** What syncTree needs from its caller: the activity context, or a benchmark's stand-in. */
export interface SyncHooks {
  attempt: number;
  resumedFrom: SyncProgress | null;
  heartbeat(progress: SyncProgress): void;
  signal?: AbortSignal;
}

export function activityHooks(): SyncHooks {
  const ctx = Context.current();
  return {
    attempt: ctx.info.attempt,
    resumedFrom: (ctx.info.heartbeatDetails as SyncProgress | undefined) ?? null,
    heartbeat: (p) => ctx.heartbeat(p),
    signal: ctx.cancellationSignal,
  };
}

export async function remoteManifest(session: SshSession, remoteDir: string): Promise<Manifest> {
  const res = await session.exec(manifestCommand(remoteDir));
  if (res.code !== 0) throw new Error(`listing ${remoteDir} on the source failed (exit ${res.code}): ${res.stderr.slice(0, 300)}`);
  return parseManifest(res.stdout);
}

/** `xargs -0 sha256sum -z` over absolute names sent on stdin: no name is ever on a command line. */
export async function remoteChecksums(session: SshSession, remoteDir: string, names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (names.length === 0) return out;
  const stdin = Buffer.from(names.map((n) => `${remoteDir}/${n}\0`).join(''), 'utf8');
  const res = await session.exec(remoteCommand(['xargs', '-0', '-r', 'sha256sum', '-z', '--']), { stdin });
  if (res.code !== 0) throw new Error(`sha256sum on the source failed (exit ${res.code}): ${res.stderr.slice(0, 300)}`);
  const prefix = `${remoteDir}/`;
  for (const rec of res.stdout.toString('utf8').split('\0')) {
    const m = /^([0-9a-f]{64}) [ *](.*)$/s.exec(rec);
    if (m && m[2]!.startsWith(prefix)) out.set(m[2]!.slice(prefix.length), m[1]!);
  }
  return out;
}

/** Files whose local size and whole-second mtime equal the manifest's: what rsync will skip. */
function presentBytes(localDir: string, m: Manifest, skip?: Set<string>): { files: number; bytes: number; differ: string[] } {
  let files = 0;
  let bytes = 0;
  const differ: string[] = [];
  for (const e of m.entries) {
    if (e.type !== 'f' || skip?.has(e.name)) continue;
    const st = fs.lstatSync(path.join(localDir, e.name), { throwIfNoEntry: false });
    if (st?.isFile() && st.size === e.size && Math.floor(st.mtimeMs / 1000) === Math.floor(e.mtime)) {
      files += 1;
      bytes += e.size;
    } else differ.push(e.name);
  }
  return { files, bytes, differ };
}

/** Credentials for OpenSSH and a connection master logging in with them (see activities/ssh-master.ts). */
function loginAhead(source: SshTarget, hostKey: string): { creds: SshCredentials; master: SshMaster } {
  const creds = sshCredentials(source, hostKey);
  return { creds, master: startSshMaster(creds) };
}

export async function syncTree(
  input: SyncInput,
  assertLocal: (dir: string) => string,
  hooks: SyncHooks = activityHooks(),
): Promise<SyncResult> {
  const localDir = assertLocal(input.localDir);
  const remoteDir = checkRemotePath(input.remoteDir, 'source folder');
  // rsync's temp files live beside the folder, never inside it, and a crashed attempt's leftovers go here.
  const tempDir = path.join(path.dirname(localDir), `.npanel-rsync-tmp-${path.basename(localDir)}`);
  fs.rmSync(tempDir, { recursive: true, force: true });
  fs.mkdirSync(tempDir, { mode: 0o700 });
  const t0 = performance.now();
  const early = input.hostKey ? loginAhead(input.source, input.hostKey) : null;
  let session: SshSession;
  try {
    session = await sshConnect(input.source);
  } catch (err) {
    early?.master.stop();
    early?.creds.remove();
    throw err;
  }
  // ssh2 checked the fingerprint of the key the source shows now; OpenSSH pins the preflight's key: if they
  // differ, rsync's login fails with a host key error, which is final.
  const { creds: sshFiles, master: sshMaster } = early ?? loginAhead(input.source, session.hostKey);
  try {
    const manifest = await remoteManifest(session, remoteDir);
    // A first pass (or a retry, whose earlier copy list is lost with it) checks every file; a delta pass
    // skips the head-start count (10k lstat calls) and takes it from its size/mtime check after the copy.
    const full = input.pass === 'initial' || hooks.attempt > 1;
    const head = full ? presentBytes(localDir, manifest) : { files: 0, bytes: 0 };
    const progress: SyncProgress = {
      files: head.files,
      bytes: head.bytes,
      totalFiles: manifest.files,
      totalBytes: manifest.bytes,
      phase: 'copy',
    };
    hooks.heartbeat(progress);
    // The listing usually outlasts the login; a slow or failed master is not waited for long.
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([sshMaster.ready, new Promise((r) => (giveUp = setTimeout(r, 3000)))]);
    clearTimeout(giveUp);
    const t1 = performance.now();
    const copied = await rsyncPull({
      target: input.source,
      remoteDir,
      localDir,
      exclude: excludeList(manifest),
      tempDir,
      owner: input.owner,
      private: input.private,
      signal: hooks.signal,
      credentials: sshFiles,
      onProgress: (files, bytes) => hooks.heartbeat({ ...progress, files: head.files + files, bytes: head.bytes + bytes }),
    });
    const t2 = performance.now();
    // The listing is the source's word; what landed here is checked again (a source may list one tree and
    // serve another, and rsync's own --safe-links varies by version).
    const landed = removeEscapingLinks(localDir).map((l) => ({
      name: l.name,
      reason: `symlink to ${l.link} resolves outside the docroot (removed after the copy)`,
    }));
    const refused = [
      ...manifest.refused,
      ...landed,
      ...copied.unsafeLinks.map((l) => ({ name: l, reason: 'rsync refused an unsafe symlink' })),
    ];
    hooks.heartbeat({ ...progress, files: manifest.files, bytes: manifest.bytes, phase: 'checksum' });
    const changed = new Set(copied.changed);
    const names = full ? [...new Set([...manifest.entries.filter((e) => e.type === 'f').map((e) => e.name), ...changed])] : [...changed];
    const sums = Promise.all([remoteChecksums(session, remoteDir, names), localChecksums(localDir, names)]);
    // Delta (while the source hashes): what rsync did not copy must be what rsync judged equal (size + mtime
    // as listed); a file that differs was missed (or changed under us): a plain error, the retry copies it.
    const checked = full ? null : presentBytes(localDir, manifest, changed);
    const missed = checked?.differ ?? [];
    const [theirs, ours] = await sums;
    const bad = names.filter((n) => !theirs.has(n) || theirs.get(n) !== ours.get(n));
    if (bad.length > 0) {
      // Remove the bad copies so the next attempt (a retry, or the operator's) copies them again.
      for (const n of bad) fs.rmSync(path.join(localDir, n), { force: true });
      throw new Error(`checksum mismatch for ${bad.length} file(s), e.g. ${JSON.stringify(bad.slice(0, 3))}`);
    }
    if (missed.length > 0)
      throw new Error(
        `size or mtime differs from the source for ${missed.length} file(s) rsync did not copy, e.g. ${JSON.stringify(missed.slice(0, 3))}`,
      );
    const indexName = full ? ['index.html', 'index.htm', 'index.php'].find((n) => theirs.has(n)) : undefined;
    return {
      totalFiles: manifest.files,
      totalBytes: manifest.bytes,
      copiedFiles: copied.files,
      copiedBytes: copied.bytes,
      literalBytes: copied.literalBytes,
      alreadyPresentBytes: checked ? checked.bytes : head.bytes,
      resumedFrom: hooks.resumedFrom,
      checksummed: names.length,
      refused: refused.slice(0, 50),
      refusedCount: refused.length,
      index: indexName ? { name: indexName, sha256: theirs.get(indexName)! } : null,
      attempt: hooks.attempt,
      timings: { listMs: Math.round(t1 - t0), copyMs: Math.round(t2 - t1), verifyMs: Math.round(performance.now() - t2) },
    };
  } finally {
    session.end();
    sshMaster.stop();
    sshFiles.remove();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

/** A local folder must resolve inside `root` and be a real folder (no symlink anywhere below root). */
export function insideRoot(root: string, dir: string): string {
  const base = path.resolve(root);
  const p = path.resolve(dir);
  if (!p.startsWith(base + path.sep)) throw ApplicationFailure.nonRetryable(`${dir} is outside ${base}`, FAILURE.InvalidInput);
  for (let d = p; d !== base; d = path.dirname(d)) {
    const st = fs.lstatSync(d, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw ApplicationFailure.nonRetryable(`${d} is not a real folder`, FAILURE.DocrootUnsafe);
  }
  return p;
}
