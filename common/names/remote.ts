import { z } from 'zod';

/**
 * The names of a migration source: its host, its login and its pinned host key. They reach ssh2 and the
 * OpenSSH command line (whose -e string rsync splits on blanks), so each is a closed pattern.
 */

/** LDH labels (case kept, a single label allowed); a dotted IPv4 address matches too. */
export const SSH_HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** A POSIX login name (what useradd accepts by default), at most 32 characters. */
export const SSH_USER_PATTERN = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` prints it. */
export const HOST_KEY_FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

export const sshHostSchema = z.string().regex(SSH_HOST_PATTERN, 'must be a host name or IPv4 address');
export const sshUserSchema = z.string().regex(SSH_USER_PATTERN, 'must be a POSIX user name');
export const hostKeyFingerprintSchema = z
  .string()
  .regex(HOST_KEY_FINGERPRINT_PATTERN, 'must be SHA256:<43 base64 characters> as ssh-keygen -lf prints it');

export const isSshHost = (value: unknown): value is string => typeof value === 'string' && SSH_HOST_PATTERN.test(value);
export const isSshUser = (value: unknown): value is string => typeof value === 'string' && SSH_USER_PATTERN.test(value);
export const isHostKeyFingerprint = (value: unknown): value is string =>
  typeof value === 'string' && HOST_KEY_FINGERPRINT_PATTERN.test(value);
