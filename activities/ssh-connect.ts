import crypto from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { Client, type ClientChannel } from 'ssh2';

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
  exec(command: string, opts?: { stdin?: Buffer | string; maxOutput?: number }): Promise<{ code: number | null; stdout: Buffer; stderr: string }>;
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

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\d{1,3}(?:\.\d{1,3}){3})$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** Validation shared by ssh2 and the OpenSSH command line (whose -e string rsync splits on blanks). */
export function checkTarget(t: SshTarget): void {
  const bad = (m: string): never => {
    throw ApplicationFailure.nonRetryable(m, 'MigrationSourceInvalid');
  };
  if (!HOST.test(t.host)) bad('source.host must be a host name or IPv4 address');
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) bad('source.port must be 1-65535');
  if (!USER.test(t.user)) bad('source.user must be a POSIX user name');
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(t.hostKeyFingerprint)) bad('source.hostKeyFingerprint must look like SHA256:<43 base64 characters>');
  if (!t.privateKey && !t.password) bad('source.privateKey or source.password is required');
}

/**
 * Connects and verifies the host key against the pinned fingerprint before authenticating. A mismatch is
 * final (HostKeyMismatch, non-retryable): it means the wrong server, or someone in between.
 */
export function sshConnect(t: SshTarget, timeoutMs = 15_000): Promise<SshSession> {
  checkTarget(t);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen: Buffer | undefined;
    let mismatch = false;
    client.once('ready', () => resolve(session(client, `${keyType(seen!)} ${seen!.toString('base64')}`)));
    client.once('error', (err) => {
      client.end();
      if (mismatch) {
        reject(ApplicationFailure.nonRetryable(`host key of ${t.host}:${t.port} is ${sha256Fingerprint(seen!)}, expected ${t.hostKeyFingerprint}: refusing to connect`, 'HostKeyMismatch'));
      } else if ((err as { level?: string }).level === 'client-authentication') {
        reject(ApplicationFailure.nonRetryable(`authentication as ${t.user} on ${t.host}:${t.port} failed`, 'SourceAuthFailed'));
      } else {
        // Network trouble is transient: a plain Error, so Temporal retries (and the operator gate follows).
        reject(new Error(`ssh ${t.user}@${t.host}:${t.port}: ${err.message}`));
      }
    });
    client.connect({
      host: t.host,
      port: t.port,
      username: t.user,
      ...(t.privateKey ? { privateKey: t.privateKey } : { password: t.password }),
      readyTimeout: timeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        seen = Buffer.from(key);
        mismatch = sha256Fingerprint(seen) !== t.hostKeyFingerprint;
        return !mismatch;
      },
    });
  });
}

function session(client: Client, hostKey: string): SshSession {
  const open = (command: string) =>
    new Promise<ClientChannel>((resolve, reject) => client.exec(command, (err, ch) => (err ? reject(new Error(`ssh exec: ${err.message}`)) : resolve(ch))));

  const finish = (ch: ClientChannel, stderr: { text: string }) =>
    new Promise<number | null>((resolve, reject) => {
      ch.stderr.on('data', (d: Buffer) => {
        if (stderr.text.length < 8192) stderr.text += d.toString('utf8');
      });
      // The exit status from 'close', not 'exit': ssh2 emits 'exit' as the packet is parsed, which can be
      // before `await open()` has returned and a listener exists (a fast command, packets coalesced by a
      // proxy); 'close' carries the same (code, signal) and comes only after the stream is read.
      ch.once('close', (code?: number | null, signal?: string) => {
        if (code === null && signal && stderr.text.length < 8192) stderr.text += `[remote command killed by ${signal}]`;
        resolve(code ?? null);
      });
      ch.once('error', reject);
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
      if (size > max) throw ApplicationFailure.nonRetryable(`remote output larger than ${max} bytes`, 'RemoteOutputTooLarge');
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
