import crypto from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import net from 'node:net';
import { Client, type ClientChannel } from 'ssh2';
import { isHostKeyFingerprint, isSshHost, isSshUser } from '../common/names';
import { classifyPeerFailure, peerFailure, type PeerObservation } from './ssh-peer-failure';
import { FAILURE } from '../common/failure-types';

/** How to reach a migration source. `privateKey` (PEM/OpenSSH text) or `password`: secrets, never logged. */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey?: string;
  password?: string;
  /** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
}

export interface SshSession {
  /** The host key the server presented, verified: `<type> <base64 blob>` (for a pinned known_hosts file). */
  hostKey: string;
  exec(
    command: string,
    opts?: { stdin?: Buffer | string; maxOutput?: number },
  ): Promise<{ code: number | null; stdout: Buffer; stderr: string }>;
  /** A streaming exec: stdout to `sink`; resolves with the exit code once the stream and the command end. */
  execStream(command: string, sink: Writable, opts?: { stdin?: Readable }): Promise<{ code: number | null; stderr: string }>;
  end(): void;
}

export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first SSH string inside the blob (uint32 length + name). */
function keyType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** Validation shared by ssh2 and the OpenSSH command line: the source's name rules (common/names/remote.ts). */
export function checkTarget(t: SshTarget): void {
  const bad = (m: string): never => {
    throw ApplicationFailure.nonRetryable(m, FAILURE.MigrationSourceInvalid);
  };
  if (!isSshHost(t.host)) bad('source.host must be a host name or IPv4 address');
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) bad('source.port must be 1-65535');
  if (!isSshUser(t.user)) bad('source.user must be a POSIX user name');
  if (!isHostKeyFingerprint(t.hostKeyFingerprint)) bad('source.hostKeyFingerprint must look like SHA256:<43 base64 characters>');
  if (!t.privateKey && !t.password) bad('source.privateKey or source.password is required');
}

/** How long connect + key exchange + login may take: a peer that accepts and stalls (or trickles) fails then. */
export const SSH_HANDSHAKE_MS = 15_000;
/**
 * Bytes a peer may send before the session is ready: a real login (identification, key exchange, host key,
 * an authentication banner of a few KiB) is far below; ssh2 alone would buffer and rescan up to 8 MiB of
 * pre-identification lines.
 */
export const SSH_MAX_BANNER_BYTES = 256 * 1024;

/**
 * Connects and verifies the host key against the pinned fingerprint before authenticating. A mismatch is
 * final (HostKeyMismatch, non-retryable): it means the wrong server, or someone in between. ssh2 can emit
 * 'error' several times for one broken connection (a protocol error, then the reset of the socket it ends):
 * the listener stays for the client's whole life, or the second one is an unhandled 'error' that kills the
 * worker and every activity on it. What each failure means: activities/ssh-peer-failure.ts.
 */
export function sshConnect(t: SshTarget, handshakeMs = SSH_HANDSHAKE_MS): Promise<SshSession> {
  checkTarget(t);
  const where = `${t.user}@${t.host}:${t.port}`;
  const limits = { handshakeMs, maxBannerBytes: SSH_MAX_BANNER_BYTES };
  return new Promise((resolve, reject) => {
    const client = new Client();
    const sock = net.connect({ host: t.host, port: t.port });
    const seen: PeerObservation = { received: 0, identSeen: false, hostKeyMismatch: null };
    let hostKey: Buffer | undefined;
    let head = '';
    let settled = false;
    let ready = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      sock.off('data', watch);
      sock.destroy();
      reject(err);
    };
    // Our own deadline: ssh2's readyTimeout is cleared by some of its error paths, ours always holds.
    const deadline = setTimeout(() => fail(peerFailure('timeout', where, new Error('timeout'), seen, limits)), handshakeMs);
    const watch = (d: Buffer) => {
      seen.received += d.length;
      if (!seen.identSeen && head.length < 16_384) {
        head += d.toString('latin1');
        seen.identSeen = /(^|\n)SSH-/.test(head);
      }
      if (seen.received > SSH_MAX_BANNER_BYTES) fail(peerFailure('banner-too-large', where, new Error('banner'), seen, limits));
    };
    sock.on('data', watch);
    // Permanent: errors before 'ready' settle the login once; later ones are the session's (see session()).
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (!ready) fail(peerFailure(classifyPeerFailure(err, seen), where, err, seen, limits));
    });
    // A peer that closes without a word before the login: ssh2 may report no error at all.
    client.on('close', () => {
      const closed = Object.assign(new Error('connection closed before the SSH login completed'), { level: 'client-socket' });
      fail(peerFailure(classifyPeerFailure(closed, seen), where, closed, seen, limits));
    });
    client.once('ready', () => {
      if (settled) return client.end();
      settled = true;
      ready = true;
      clearTimeout(deadline);
      sock.off('data', watch);
      resolve(session(client, `${keyType(hostKey!)} ${hostKey!.toString('base64')}`, where));
    });
    try {
      client.connect({
        sock,
        username: t.user,
        ...(t.privateKey ? { privateKey: t.privateKey } : { password: t.password }),
        readyTimeout: handshakeMs + 5000,
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          hostKey = Buffer.from(key);
          const fp = sha256Fingerprint(hostKey);
          if (fp !== t.hostKeyFingerprint) seen.hostKeyMismatch = { seen: fp, expected: t.hostKeyFingerprint };
          return seen.hostKeyMismatch === null;
        },
      });
    } catch {
      // Only a key ssh2 cannot parse throws here; its message could quote the key, so it is not passed on.
      fail(ApplicationFailure.nonRetryable('source.privateKey is not a private key ssh2 can read', FAILURE.MigrationSourceInvalid));
    }
  });
}

function session(client: Client, hostKey: string, where: string): SshSession {
  // After the login a broken connection (reset, keepalive timeout: ~20 s of silence) closes every channel;
  // the first error is kept so a command that ends that way fails with why, as a transient error.
  let lost: Error | null = null;
  client.on('error', (err: Error & { code?: string }) => {
    lost ??= new Error(`ssh ${where}: connection lost (${err.code ? `${err.code} ` : ''}${err.message})`);
  });
  client.on('close', () => {
    lost ??= new Error(`ssh ${where}: connection closed by the source`);
  });
  const open = (command: string) =>
    new Promise<ClientChannel>((resolve, reject) => {
      if (lost) return reject(lost);
      client.exec(command, (err, ch) => (err ? reject(lost ?? new Error(`ssh exec: ${err.message}`)) : resolve(ch)));
    });

  const finish = (ch: ClientChannel, stderr: { text: string }) =>
    new Promise<number | null>((resolve, reject) => {
      ch.stderr.on('data', (d: Buffer) => {
        if (stderr.text.length < 8192) stderr.text += d.toString('utf8');
      });
      // The exit status from 'close', not 'exit': ssh2 emits 'exit' as the packet is parsed, which can be
      // before `await open()` has returned and a listener exists (a fast command, packets coalesced by a
      // proxy); 'close' carries the same (code, signal) and comes only after the stream is read.
      ch.once('close', (code?: number | null, signal?: string) => {
        // No status and the connection gone: the command was cut off, whatever it printed is partial.
        if ((code === undefined || code === null) && !signal && lost) return reject(lost);
        if (code === null && signal && stderr.text.length < 8192) stderr.text += `[remote command killed by ${signal}]`;
        resolve(code ?? null);
      });
      ch.on('error', reject);
    });

  return {
    hostKey,
    async exec(command, opts = {}) {
      const ch = await open(command);
      const chunks: Buffer[] = [];
      let size = 0;
      const max = opts.maxOutput ?? 64 * 1024 * 1024;
      ch.on('data', (d: Buffer) => {
        size += d.length;
        if (size > max) ch.close();
        else chunks.push(d);
      });
      const stderr = { text: '' };
      const done = finish(ch, stderr);
      ch.end(opts.stdin ?? undefined);
      const code = await done;
      if (size > max) throw ApplicationFailure.nonRetryable(`remote output larger than ${max} bytes`, FAILURE.RemoteOutputTooLarge);
      return { code, stdout: Buffer.concat(chunks), stderr: stderr.text };
    },
    async execStream(command, sink, opts = {}) {
      const ch = await open(command);
      const stderr = { text: '' };
      const done = finish(ch, stderr);
      const sinkDone = new Promise<void>((resolve, reject) => {
        sink.once('finish', resolve);
        sink.once('close', resolve);
        sink.once('error', reject);
      });
      ch.pipe(sink);
      if (opts.stdin) opts.stdin.pipe(ch);
      else ch.end();
      const code = await done;
      await sinkDone;
      return { code, stderr: stderr.text };
    },
    end: () => client.end(),
  };
}
