import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../common/failure-types';

/**
 * What a failed SSH login to a migration source means, and whether trying again can help. The source is
 * hostile or broken as often as it is fine: it may be another service on that port (MariaDB, HTTP), send
 * garbage or an endless banner, accept and say nothing, reset, or show another host key. Each gets one clear
 * sentence naming host:port and never the peer's own bytes (they go nowhere: logs and the console show this).
 *
 * Final (non-retryable): a wrong host key (the wrong server, or someone in between), a refused login, and a
 * peer that is not an SSH server (retrying the same port meets the same program; the operator gate decides).
 * Transient (a plain Error, Temporal retries): refused, reset, closed or silent connections.
 */

export interface PeerObservation {
  /** Bytes the peer sent before the session was ready. */
  received: number;
  /** An `SSH-` identification line appeared in them. */
  identSeen: boolean;
  /** The host key verifier ran and the key did not match the pinned fingerprint. */
  hostKeyMismatch: { seen: string; expected: string } | null;
}

export type PeerFailureKind = 'host-key' | 'auth' | 'not-ssh' | 'banner-too-large' | 'timeout' | 'network';

/** ssh2's "the socket closed before the identification line", which is a reset or close, not a protocol fault. */
const LOST_BEFORE_HANDSHAKE = /Connection lost before handshake/;

export function classifyPeerFailure(err: Error & { level?: string; code?: string }, seen: PeerObservation): PeerFailureKind {
  if (seen.hostKeyMismatch) return 'host-key';
  if (err.level === 'client-authentication') return 'auth';
  if (err.level === 'client-timeout') return 'timeout';
  // The peer spoke, but nothing it said was an SSH identification: another protocol on that port.
  if (seen.received > 0 && !seen.identSeen) return 'not-ssh';
  // Sockets failing (reset, refused, closed) are the network's; any other fault is the peer breaking SSH.
  if (err.level === 'client-socket' || err.code || LOST_BEFORE_HANDSHAKE.test(err.message)) return 'network';
  return 'not-ssh';
}

export function peerFailure(
  kind: PeerFailureKind,
  where: string,
  err: Error & { code?: string },
  seen: PeerObservation,
  limits: { handshakeMs: number; maxBannerBytes: number },
): Error {
  switch (kind) {
    case 'host-key':
      return ApplicationFailure.nonRetryable(
        `host key of ${where} is ${seen.hostKeyMismatch!.seen}, expected ${seen.hostKeyMismatch!.expected}: refusing to connect`,
        FAILURE.HostKeyMismatch,
      );
    case 'auth':
      return ApplicationFailure.nonRetryable(`authentication on ${where} failed`, FAILURE.SourceAuthFailed);
    case 'not-ssh':
      // ssh2's own messages are fixed texts ("Invalid identification string"), never the peer's bytes.
      return ApplicationFailure.nonRetryable(
        `${where} is not an SSH server: it sent ${seen.received} bytes without a valid SSH identification (${err.message})`,
        FAILURE.SourceNotSsh,
      );
    case 'banner-too-large':
      return ApplicationFailure.nonRetryable(
        `${where} sent more than ${limits.maxBannerBytes} bytes before the SSH session was ready (a huge or endless banner): refusing it`,
        FAILURE.SourceNotSsh,
      );
    case 'timeout':
      return new Error(
        `ssh ${where}: no SSH handshake within ${Math.round(limits.handshakeMs / 1000)} s (the source accepted the connection but did not complete the login; ${seen.received} bytes received)`,
      );
    case 'network':
      return new Error(`ssh ${where}: ${err.code ? `${err.code} ` : ''}${err.message}`);
  }
}
