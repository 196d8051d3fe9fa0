import { typedName } from './characters';

/**
 * The one rule for a mailbox's local part (`<local>@<domain>`), which becomes a Dovecot user, a folder under
 * the vmail tree and an Exim lookup key. Of the three rules there were, this is the strictest (the API's):
 * 1-64 characters, starting and ending with a letter or digit, no "..".
 */
export const MAIL_LOCAL_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
export const MAIL_LOCAL_RULE = 'must be 1-64 of a-z 0-9 . _ - (starting and ending with a letter or digit)';

export const mailLocalSchema = typedName()
  .regex(MAIL_LOCAL_PATTERN, MAIL_LOCAL_RULE)
  .refine((v) => !v.includes('..'), 'must not contain ".."')
  .meta({ not: { pattern: '\\.\\.' } });

/** A local part in its stored form (what activities receive): the same rule, nothing folded. */
export function isMailLocal(value: unknown): value is string {
  return typeof value === 'string' && MAIL_LOCAL_PATTERN.test(value) && !value.includes('..');
}
