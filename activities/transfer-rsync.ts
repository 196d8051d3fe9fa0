import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { checkTarget, type SshTarget } from './ssh-connect';
import { ALIAS, type SshCredentials } from './ssh-credentials';
import { checkRemotePath } from './remote-quote';
import { FAILURE } from '../common/failure-types';

/**
 * Bulk copy with rsync over OpenSSH: it measured fastest here (bench/migrate.ts), it resumes by itself (a
 * re-run skips files whose size and mtime match) and it does deltas. Safety: `--protect-args` keeps names off
 * the remote command line, `--exclude-from` leaves out every entry the manifest refused, `--safe-links` drops
 * any outside symlink that appeared since, no `-D` skips special files, and the host key is pinned in the
 * caller's generated known_hosts file (activities/ssh-credentials.ts).
 */

export interface RsyncOptions {
  target: SshTarget;
  /** The caller's OpenSSH files (pinned key; a connection master may be up on them); the caller removes them. */
  credentials: SshCredentials;
  remoteDir: string;
  localDir: string;
  /** NUL-terminated anchored patterns of refused entries (transfer-manifest excludeList). */
  exclude: Buffer;
  /** A folder on the same filesystem as localDir, outside it: rsync's temp files never appear in the site. */
  tempDir: string;
  owner?: { uid: number; gid: number };
  /** Owner-only modes (mail); otherwise world-readable, as nginx's workers need for a docroot. */
  private?: boolean;
  /** Called per received file with running totals of this run. */
  onProgress?: (files: number, bytes: number) => void;
  signal?: AbortSignal;
}

export interface RsyncResult {
  files: number;
  bytes: number;
  /** Bytes rsync sent as literal data (not matched from a basis): what really crossed the wire. */
  literalBytes: number;
  changed: string[];
  unsafeLinks: string[];
}

function parseStat(stats: string, label: string): number {
  const m = new RegExp(`${label}: ([\\d,.]+)`).exec(stats);
  return m ? Number(m[1]!.replace(/[,.]/g, '')) : 0;
}

export async function rsyncPull(opts: RsyncOptions): Promise<RsyncResult> {
  checkTarget(opts.target);
  const remoteDir = checkRemotePath(opts.remoteDir, 'source.docroot');
  const creds = opts.credentials;
  const args = [
    '--pdeathsig',
    'KILL',
    '--',
    'rsync',
    '--protect-args',
    '-e',
    creds.sshCommand,
    '--from0',
    '--exclude-from=-',
    '-rlpt',
    opts.private ? '--chmod=Du=rwx,Dgo=,Fu=rw,Fgo=' : '--chmod=Du=rwx,Dgo=rx,Fu=rw,Fgo=r',
    '--numeric-ids',
    '--safe-links',
    '--whole-file',
    `--temp-dir=${opts.tempDir}`,
    '--out-format=%i %l %n',
    '--stats',
    ...(opts.owner && process.getuid?.() === 0 ? [`--chown=${opts.owner.uid}:${opts.owner.gid}`] : []),
    `${ALIAS}:${remoteDir}/`,
    `${opts.localDir}/`,
  ];
  // setpriv --pdeathsig: if the worker is SIGKILLed, rsync dies with it instead of racing the retry.
  const child = spawn('setpriv', args, { env: creds.env, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
  child.stdin.end(opts.exclude);
  const result: RsyncResult = { files: 0, bytes: 0, literalBytes: 0, changed: [], unsafeLinks: [] };
  let pending = '';
  let stats = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const m = /^([<>ch.*][fdLDS]\S*) (\d+) (.*)$/.exec(line);
      if (m) {
        if (m[1]!.startsWith('>f')) {
          result.files += 1;
          result.bytes += Number(m[2]);
          if (result.changed.length < 100_000) result.changed.push(m[3]!);
          opts.onProgress?.(result.files, result.bytes);
        }
      } else if (/unsafe symlink/.test(line)) result.unsafeLinks.push(line.trim());
      else stats += `${line}\n`;
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 16_384) stderr += d;
    for (const line of d.split('\n')) if (/unsafe symlink/.test(line)) result.unsafeLinks.push(line.trim());
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  stats += pending;
  result.literalBytes = parseStat(stats, 'Literal data');
  // 24: files vanished on the source while copying (a live site): the checksum pass decides what matters.
  if (code === 0 || code === 24) return result;
  const tail = stderr.trim().split('\n').slice(-4).join(' | ').slice(0, 600);
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    throw ApplicationFailure.nonRetryable(`rsync: host key of ${opts.target.host} does not match the pinned key`, FAILURE.HostKeyMismatch);
  }
  throw new Error(`rsync exited with ${code}: ${tail}`);
}

/** Local sha256 of files under a folder, a few at a time (the disk, not the hash, is the bound). */
export async function localChecksums(root: string, names: string[], concurrency = 4): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const hash = crypto.createHash('sha256');
      try {
        for await (const chunk of fs.createReadStream(path.join(root, name))) hash.update(chunk as Buffer);
        out.set(name, hash.digest('hex'));
      } catch {
        out.set(name, 'missing');
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}
