import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { HIDDEN_CHARACTERS, HIDDEN_CHARACTERS_MESSAGE, NO_HIDDEN_CHARACTERS } from './characters';

/**
 * The one rule for a domain name. Its stored form is ASCII: lowercase, no trailing dot, IDN as punycode.
 * The API turns what a user typed into that form (`domainSchema`); activities, renderers and the DNS zone
 * name accept only that form (`isDomainName`, `domainNameSchema`), so a path, vhost or zone is never built
 * from anything else.
 */

/** An LDH label of 1-63 characters, neither starting nor ending with a hyphen. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * What is wrong with a domain in its stored form, or null. An `xn--` label must be valid punycode that IDNA
 * maps back to itself (`xn--a` decodes to nothing: refused, where PowerDNS and nginx would take it as it is).
 */
export function domainProblem(v: string): string | null {
  if (HIDDEN_CHARACTERS.test(v)) return HIDDEN_CHARACTERS_MESSAGE;
  if (v.length < 3 || v.length > 253) return 'must be 3-253 characters';
  const labels = v.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)))
    return 'must be a domain name of lowercase letters, digits and hyphens (labels of 1-63 characters)';
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'must not end with a numeric label';
  if (labels.some((l) => l.startsWith('xn--')) && domainToASCII(v) !== v) return 'has an xn-- label that is not valid punycode (IDNA)';
  return null;
}

/**
 * Case, blanks around it and a trailing dot are not part of a name. Hidden characters are left in, so the
 * check that follows refuses them instead of a trim silently dropping them.
 */
export function foldDomain(v: string): string {
  return HIDDEN_CHARACTERS.test(v) ? v : v.trim().toLowerCase().replace(/\.$/, '');
}

const PUBLISHED_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const CANONICAL_DOMAIN_PATTERN = `^(?:${PUBLISHED_LABEL}\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`;

/** A domain as the API receives it: folded, IDN mapped to punycode, then the one rule. */
export const domainSchema = z
  .string()
  .max(300, 'is too long')
  .regex(NO_HIDDEN_CHARACTERS, HIDDEN_CHARACTERS_MESSAGE)
  .transform(foldDomain)
  .transform((v) => (/^[\x21-\x7e]*$/.test(v) ? v : domainToASCII(v) || v))
  .superRefine((v, ctx) => {
    const problem = domainProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  // The published form (OpenAPI): the canonical ASCII name. The API also takes uppercase, a trailing dot and
  // IDN and normalises them; the rule itself is domainProblem (the TLD published letter-first, as every TLD is).
  .meta({ pattern: CANONICAL_DOMAIN_PATTERN, minLength: 3, maxLength: 253 });

/** A domain in its stored form only (what activities receive): no folding or mapping here. */
export const domainNameSchema = z.string().superRefine((v, ctx) => {
  const problem = domainProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `domain ${problem} (want lowercase LDH labels like example.com)` });
});

export function isDomainName(value: unknown): value is string {
  return typeof value === 'string' && domainProblem(value) === null;
}

/** The absolute form PowerDNS names a zone by: the stored form and a trailing dot. */
export const zoneName = (domain: string) => `${domain}.`;
