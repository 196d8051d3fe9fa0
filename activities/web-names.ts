import { z } from 'zod';
import { domainProblem } from '../common/account-input';

/**
 * Names that become file paths or nginx config tokens (nginx vhosts, docroots). Validated here, once, before
 * any path or config text is built from them; the renderers check again (defence in depth), so a value that
 * could break out of a config token (space, quote, ';', '{', '$', newline, '..') never reaches a file.
 */

/** Short, starts with a letter: also a Unix-ish user name for FTP/SSH and a folder name. */
const ACCOUNT_RE = /^[a-z][a-z0-9]{0,15}$/;
/**
 * Absolute paths that may appear unquoted in nginx config: a conservative character set with no whitespace,
 * quotes, ';', '{', '}', '$', '#' or '\', and no '.' or '..' segment.
 */
const SAFE_PATH_RE = /^\/[A-Za-z0-9._@+\/-]*$/;

/** The API's own rule (common/account-input.ts), on the already normalised form: no trimming or mapping here. */
export const domainSchema = z.string().superRefine((v, ctx) => {
  const problem = domainProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `domain ${problem} (want lowercase LDH labels like example.com)` });
});
export const accountSchema = z.string().regex(ACCOUNT_RE, 'account must match ^[a-z][a-z0-9]{0,15}$');
export const safePathSchema = z
  .string()
  .max(1024)
  .regex(SAFE_PATH_RE, 'path must be absolute and use only [A-Za-z0-9._@+/-]')
  .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'path may not contain . or .. segments');

export function isDomain(value: unknown): value is string {
  return domainSchema.safeParse(value).success;
}

export function isAccount(value: unknown): value is string {
  return accountSchema.safeParse(value).success;
}

export function isSafePath(value: unknown): value is string {
  return safePathSchema.safeParse(value).success;
}

/** IPv4 dotted quad only: the embedded stack and our nodes listen on IPv4 loopback or a node address. */
export function isIPv4(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536;
}
