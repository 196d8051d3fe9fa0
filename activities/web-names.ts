import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FAILURE } from '../common/failure-types';
import { domainProblem, isUsername, USERNAME_RULE } from '../common/names';

/**
 * Names that become file paths or nginx config tokens (nginx vhosts, docroots, certificate files), checked
 * before any path or config text is built from them, by the one rule of each name (common/names/) on the
 * stored form: nothing is trimmed or mapped here. The renderers check again (defence in depth), so a value
 * that could break out of a config token (space, quote, ';', '{', '$', newline, '..') never reaches a file.
 */

/**
 * Absolute paths that may appear unquoted in nginx config: a conservative character set with no whitespace,
 * quotes, ';', '{', '}', '$', '#' or '\', and no '.' or '..' segment.
 */
const SAFE_PATH_RE = /^\/[A-Za-z0-9._@+\/-]*$/;

function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FAILURE.InvalidInput);
}

/** The domain in its stored form, or a non-retryable InvalidInput naming what is wrong. */
export function requireDomain(value: unknown): string {
  const problem = typeof value === 'string' ? domainProblem(value) : 'must be a string';
  return problem === null ? (value as string) : invalid(`invalid domain ${JSON.stringify(value)}: ${problem}`);
}

/** The account's username in its stored form, or a non-retryable InvalidInput. */
export function requireAccount(value: unknown): string {
  return isUsername(value) ? value : invalid(`invalid account ${JSON.stringify(value)}: ${USERNAME_RULE}, not reserved`);
}

export const safePathSchema = z
  .string()
  .max(1024)
  .regex(SAFE_PATH_RE, 'path must be absolute and use only [A-Za-z0-9._@+/-]')
  .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'path may not contain . or .. segments');

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
