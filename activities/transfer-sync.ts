import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { remoteCommand, checkRemotePath } from './remote-quote';
import { sshConnect, type SshSession, type SshTarget } from './ssh-connect';
import { filesFromList, manifestCommand, parseManifest, type Manifest, type Refused } from './transfer-manifest';
import { localChecksums, rsyncPull } from './transfer-rsync';

/**
 * One folder from the source to this node: manifest (judged locally), rsync of what is missing or changed,
 * then sha256 of the copied files compared on both sides. A retried or resumed attempt starts its counters
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
  /** sha256 of the top-level index file, for the HTTP verification. */
  index: { name: string; sha256: string } | null;
  attempt: number;
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
function presentBytes(localDir: string, m: Manifest): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of m.entries) {
    if (e.type !== 'f') continue;
    try {
      const st = fs.lstatSync(path.join(localDir, e.name));
      if (st.isFile() && st.size === e.size && Math.floor(st.mtimeMs / 1000) === Math.floor(e.mtime)) {
        files += 1;
        bytes += e.size;
      }
    } catch {
      /* absent: to copy */
    }
  }
  return { files, bytes };
}

export async function syncTree(input: SyncInput, assertLocal: (dir: string) => string): Promise<SyncResult> {
  const ctx = Context.current();
  const resumedFrom = (ctx.info.heartbeatDetails as SyncProgress | undefined) ?? null;
  const localDir = assertLocal(input.localDir);
  const remoteDir = checkRemotePath(input.remoteDir, 'source folder');
  // rsync's temp files live beside the folder, never inside it, and a crashed attempt's leftovers go here.
  const tempDir = path.join(path.dirname(localDir), `.npanel-rsync-tmp-${path.basename(localDir)}`);
  fs.rmSync(tempDir, { recursive: true, force: true });
  fs.mkdirSync(tempDir, { mode: 0o700 });
  const session = await sshConnect(input.source);
  try {
    const manifest = await remoteManifest(session, remoteDir);
    const head = presentBytes(localDir, manifest);
    const progress: SyncProgress = { files: head.files, bytes: head.bytes, totalFiles: manifest.files, totalBytes: manifest.bytes, phase: 'copy' };
    ctx.heartbeat(progress);
    const copied = await rsyncPull({
      target: input.source,
      hostKey: session.hostKey,
      remoteDir,
      localDir,
      filesFrom: filesFromList(manifest),
      tempDir,
      owner: input.owner,
      signal: ctx.cancellationSignal,
      onProgress: (files, bytes) => ctx.heartbeat({ ...progress, files: head.files + files, bytes: head.bytes + bytes }),
    });
    const refused = [...manifest.refused, ...copied.unsafeLinks.map((l) => ({ name: l, reason: 'rsync refused an unsafe symlink' }))];
    // A delta pass checks what it copied; a first pass (or any retry, which lost the earlier list) checks all.
    const all = manifest.entries.filter((e) => e.type === 'f').map((e) => e.name);
    const names = input.pass === 'initial' || ctx.info.attempt > 1 ? all : copied.changed;
    ctx.heartbeat({ ...progress, files: manifest.files, bytes: manifest.bytes, phase: 'checksum' });
    const [theirs, ours] = await Promise.all([remoteChecksums(session, remoteDir, names), localChecksums(localDir, names)]);
    const bad = names.filter((n) => !theirs.has(n) || theirs.get(n) !== ours.get(n));
    if (bad.length > 0) {
      // Remove the bad copies so the next attempt (a retry, or the operator's) copies them again.
      for (const n of bad) fs.rmSync(path.join(localDir, n), { force: true });
      throw new Error(`checksum mismatch for ${bad.length} file(s), e.g. ${JSON.stringify(bad.slice(0, 3))}`);
    }
    const indexName = ['index.html', 'index.htm', 'index.php'].find((n) => theirs.has(n) || ours.has(n));
    const indexHash = indexName ? (theirs.get(indexName) ?? (await remoteChecksums(session, remoteDir, [indexName])).get(indexName)) : undefined;
    return {
      totalFiles: manifest.files,
      totalBytes: manifest.bytes,
      copiedFiles: copied.files,
      copiedBytes: copied.bytes,
      literalBytes: copied.literalBytes,
      alreadyPresentBytes: head.bytes,
      resumedFrom,
      checksummed: names.length,
      refused: refused.slice(0, 50),
      refusedCount: refused.length,
      index: indexName && indexHash ? { name: indexName, sha256: indexHash } : null,
      attempt: ctx.info.attempt,
    };
  } finally {
    session.end();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

/** A local folder must resolve inside `root` and be a real folder (no symlink anywhere below root). */
export function insideRoot(root: string, dir: string): string {
  const base = path.resolve(root);
  const p = path.resolve(dir);
  if (!p.startsWith(base + path.sep)) throw ApplicationFailure.nonRetryable(`${dir} is outside ${base}`, 'InvalidInput');
  for (let d = p; d !== base; d = path.dirname(d)) {
    const st = fs.lstatSync(d, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw ApplicationFailure.nonRetryable(`${d} is not a real folder`, 'DocrootUnsafe');
  }
  return p;
}
