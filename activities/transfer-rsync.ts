import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { checkTarget, type SshTarget } from './ssh-connect';
import { checkRemotePath } from './remote-quote';

/**
 * Bulk copy with rsync over OpenSSH: it measured fastest here (bench/migrate.ts), it resumes by itself (a
 * re-run skips files whose size and mtime match) and it does deltas. Safety: `--protect-args` keeps names off
 * the remote command line, `--files-from` copies only the manifest entries we accepted, `--safe-links` drops
 * any symlink that slipped through, and the host key is pinned in a generated known_hosts file.
 */

export interface RsyncOptions {
  target: SshTarget;
  /** `<type> <base64>` as verified by ssh2 against the fingerprint. */
  hostKey: string;
  remoteDir: string;
  localDir: string;
  /** NUL-terminated relative names (transfer-manifest filesFromList). */
  filesFrom: Buffer;
  /** A folder on the same filesystem as localDir, outside it: rsync's temp files never appear in the site. */
  tempDir: string;
  owner?: { uid: number; gid: number };
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

const ALIAS = 'npanel-migration-source';

/** A private 0700 folder holding the key, known_hosts and askpass helper for the duration of one run. */
function credentialsDir(opts: RsyncOptions): { dir: string; sshCommand: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-ssh-'));
  fs.chmodSync(dir, 0o700);
  const t = opts.target;
  fs.writeFileSync(path.join(dir, 'known_hosts'), `${ALIAS} ${opts.hostKey}\n`, { mode: 0o600 });
  const words = [
    'ssh', '-F', '/dev/null', '-p', String(t.port), '-l', t.user,
    '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    // rsync dials the alias; HostName is the real address and HostKeyAlias names the pinned known_hosts entry.
    '-o', `HostName=${t.host}`, '-o', 'StrictHostKeyChecking=yes', '-o', `HostKeyAlias=${ALIAS}`, '-o', 'ConnectTimeout=15',
    '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3', '-o', 'Compression=no',
    // AES-GCM uses the CPU's AES instructions: the cheapest cipher here (see bench/migrate.ts).
    '-c', 'aes128-gcm@openssh.com,chacha20-poly1305@openssh.com',
  ];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  if (t.privateKey) {
    const key = path.join(dir, 'id');
    fs.writeFileSync(key, t.privateKey.endsWith('\n') ? t.privateKey : `${t.privateKey}\n`, { mode: 0o600 });
    words.push('-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=publickey');
  } else {
    // No sshpass on hosting servers: OpenSSH asks this helper, which echoes the password from rsync's env only.
    const askpass = path.join(dir, 'askpass');
    fs.writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$NPANEL_SSH_PASSWORD"\n', { mode: 0o700 });
    words.push('-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'NumberOfPasswordPrompts=1');
    Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none', NPANEL_SSH_PASSWORD: t.password });
  }
  // rsync splits -e on blanks; every word above is free of blanks (mkdtemp names, validated host/user).
  if (words.some((w) => /\s/.test(w))) throw new Error('ssh command word with a blank');
  return { dir, sshCommand: words.join(' '), env };
}

function parseStat(stats: string, label: string): number {
  const m = new RegExp(`${label}: ([\\d,.]+)`).exec(stats);
  return m ? Number(m[1]!.replace(/[,.]/g, '')) : 0;
}

export async function rsyncPull(opts: RsyncOptions): Promise<RsyncResult> {
  checkTarget(opts.target);
  const remoteDir = checkRemotePath(opts.remoteDir, 'source.docroot');
  const { dir, sshCommand, env } = credentialsDir(opts);
  try {
    const args = [
      '--pdeathsig', 'KILL', '--', 'rsync', '--protect-args', '-e', sshCommand, '--from0', '--files-from=-',
      '-lpt', '--chmod=Du=rwx,Dgo=rx,Fu=rw,Fgo=r', '--numeric-ids', '--safe-links', '--whole-file',
      `--temp-dir=${opts.tempDir}`, '--out-format=%i %l %n', '--stats',
      ...(opts.owner && process.getuid?.() === 0 ? [`--chown=${opts.owner.uid}:${opts.owner.gid}`] : []),
      `${ALIAS}:${remoteDir}/`, `${opts.localDir}/`,
    ];
    // setpriv --pdeathsig: if the worker is SIGKILLed, rsync dies with it instead of racing the retry.
    const child = spawn('setpriv', args, { env, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    child.stdin.end(opts.filesFrom);
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
      throw ApplicationFailure.nonRetryable(`rsync: host key of ${opts.target.host} does not match the pinned key`, 'HostKeyMismatch');
    }
    throw new Error(`rsync exited with ${code}: ${tail}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
