import { domainToASCII } from 'node:url';
import { z } from 'zod';

/**
 * The contract of account operations, written once: the API validates bodies with these schemas and the
 * workflows take `z.infer` of them (workflows import this file with `import type` only: it uses node:url).
 * Every name is normalised (lowercase, trailing dot dropped, IDN to punycode) and then checked against a
 * closed pattern, so nothing that reaches a path, a config file or a command line can carry metacharacters.
 */

/** Names a customer may not take: system users, daemons and NPanel's own. */
export const RESERVED_USERNAMES = new Set([
  'root', 'admin', 'administrator', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp',
  'proxy', 'www', 'wwwdata', 'backup', 'list', 'irc', 'gnats', 'nobody', 'systemd', 'messagebus', 'sshd', 'mysql',
  'mariadb', 'postgres', 'nginx', 'apache', 'httpd', 'dovecot', 'dovenull', 'exim', 'debian', 'pdns', 'powerdns',
  'ftp', 'pureftpd', 'vmail', 'postmaster', 'hostmaster', 'webmaster', 'abuse', 'npanel', 'npanelsrc', 'temporal',
  'localhost', 'operator',
]);

export const RESERVED_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys', 'npanel', 'test', 'shop']);

/** MariaDB logins a customer may not take: the server's own and NPanel's (the mysql activities refuse them too). */
export const RESERVED_DATABASE_USERS = new Set(['root', 'mysql', 'mariadb', 'npanel', 'npanel_admin', 'debian_sys_maint', 'mariadb_sys']);

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Characters never part of a name: controls (tab, newline, NUL, DEL...), format characters (soft hyphen,
 * zero-width joiners, bidi marks) and line/paragraph separators. IDNA mapping and `trim()` silently DROP some
 * of them (`"ex\nample.test"` became `example.test`), so a typo or a hostile string would claim a real,
 * different name: they are refused before any normalisation.
 */
export const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
export const NO_HIDDEN_CHARACTERS = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;
export const HIDDEN_CHARACTERS_MESSAGE = 'must not contain control or invisible characters';

/**
 * The one rule for a domain name in its ASCII form (lowercase, no trailing dot), shared by the API schema and
 * the activities that build paths, vhosts and zones from it (activities/web-names.ts, activities/dns.ts).
 * Returns what is wrong, or null. An `xn--` label must be valid punycode that IDNA maps back to itself
 * (`xn--a` decodes to nothing: refused, where PowerDNS and nginx would take it as it is).
 */
export function domainProblem(v: string): string | null {
  if (HIDDEN_CHARACTERS.test(v)) return HIDDEN_CHARACTERS_MESSAGE;
  if (v.length < 3 || v.length > 253) return 'must be 3-253 characters';
  const labels = v.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return 'must be a domain name of lowercase letters, digits and hyphens (labels of 1-63 characters)';
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'must not end with a numeric label';
  if (labels.some((l) => l.startsWith('xn--')) && domainToASCII(v) !== v) return 'has an xn-- label that is not valid punycode (IDNA)';
  return null;
}

const PUBLISHED_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const CANONICAL_DOMAIN_PATTERN = `^(?:${PUBLISHED_LABEL}\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`;

/**
 * What the published schema (OpenAPI) says a refinement refuses, built from the same constant the refinement
 * checks, so the document and the check cannot drift apart.
 */
function publishedRefusal(names: ReadonlySet<string>) {
  return { not: { enum: [...names] } };
}
const DOUBLE_DOT = /\.\./;

/** A name field: hidden characters refused first (never trimmed or mapped away), then trimmed and lowercased. */
const nameString = () => z.string().regex(NO_HIDDEN_CHARACTERS, HIDDEN_CHARACTERS_MESSAGE).trim().toLowerCase();

export const usernameSchema = nameString()
  .regex(/^[a-z][a-z0-9]{0,15}$/, 'must be 1-16 lowercase letters and digits, starting with a letter')
  .refine((v) => !RESERVED_USERNAMES.has(v), 'is a reserved name')
  .meta(publishedRefusal(RESERVED_USERNAMES));

export const domainSchema = z
  .string()
  .max(300, 'is too long')
  .regex(NO_HIDDEN_CHARACTERS, HIDDEN_CHARACTERS_MESSAGE)
  .transform((v) => v.trim().toLowerCase().replace(/\.$/, ''))
  .transform((v) => (/^[\x21-\x7e]*$/.test(v) ? v : domainToASCII(v) || v))
  .superRefine((v, ctx) => {
    const problem = domainProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  // The published form (OpenAPI): the canonical ASCII name. The API also takes uppercase, a trailing dot and
  // IDN and normalises them; the rule itself is domainProblem (the TLD published letter-first, as every TLD is).
  .meta({ pattern: CANONICAL_DOMAIN_PATTERN, minLength: 3, maxLength: 253 });

export const passwordSchema = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(128, 'must be at most 128 characters')
  // Patterns, not refinements, so the published schema states them (JSON Schema patterns are unanchored).
  .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters')
  .regex(/[A-Za-z]/, 'must mix letters with digits or symbols')
  .regex(/[^A-Za-z]/, 'must mix letters with digits or symbols')
  .refine((v) => new Set(v).size >= 5, 'is too weak (too few distinct characters)');

export const mailLocalSchema = nameString()
  .regex(/^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/, 'must be 1-64 of a-z 0-9 . _ - (starting and ending with a letter or digit)')
  .refine((v) => !DOUBLE_DOT.test(v), 'must not contain ".."')
  .meta({ not: { pattern: DOUBLE_DOT.source } });

export const databaseNameSchema = nameString()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be 1-32 of a-z 0-9 _, starting with a letter')
  .refine((v) => !RESERVED_DATABASES.has(v), 'is a reserved name')
  .meta(publishedRefusal(RESERVED_DATABASES));

export const databaseUserSchema = databaseNameSchema
  .refine((v) => !RESERVED_DATABASE_USERS.has(v), 'is a reserved name')
  .meta(publishedRefusal(new Set([...RESERVED_DATABASES, ...RESERVED_DATABASE_USERS])));

/**
 * A closed object: an unknown key is an error named by its own path (`body.foo`, `body.ftp.user`), where
 * zod's `.strict()` would name only the parent object. The unknown keys are dropped before the strict parse,
 * so each is reported once.
 */
function closed<T extends z.ZodRawShape>(shape: T) {
  const known = new Set(Object.keys(shape));
  return z.preprocess((value, ctx) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
    const unknown = Object.keys(value).filter((k) => !known.has(k));
    for (const key of unknown) ctx.addIssue({ code: 'custom', path: [key], message: 'is not a known field' });
    return unknown.length ? Object.fromEntries(Object.entries(value).filter(([k]) => known.has(k))) : value;
  }, z.object(shape).strict());
}

export const nodeIdSchema = z.string().regex(/^[a-z0-9]{1,32}$/, 'must be a node id (lowercase letters and digits)');

export const provisionAccountBody = closed({
  username: usernameSchema,
  domain: domainSchema,
  node: nodeIdSchema.optional(),
  mailboxes: z.array(closed({ local: mailLocalSchema, password: passwordSchema })).max(50).default([]),
  ftp: closed({ password: passwordSchema }).optional(),
  database: closed({ name: databaseNameSchema, user: databaseUserSchema.optional(), password: passwordSchema }).optional(),
  tls: z.boolean().default(false),
})
  .superRefine((body, ctx) => {
    // The login defaults to the database name: that derived name must not be a reserved login either.
    if (body.database && !body.database.user && RESERVED_DATABASE_USERS.has(body.database.name)) {
      ctx.addIssue({ code: 'custom', path: ['database', 'name'], message: 'is a reserved login name (set database.user)' });
    }
    const seen = new Set<string>();
    body.mailboxes.forEach((m, i) => {
      if (seen.has(m.local)) ctx.addIssue({ code: 'custom', path: ['mailboxes', i, 'local'], message: `duplicate mailbox ${m.local}` });
      seen.add(m.local);
    });
    const secrets = [...body.mailboxes.map((m) => ['mailboxes', m.password] as const), ['ftp', body.ftp?.password] as const, ['database', body.database?.password] as const];
    for (const [field, pw] of secrets) {
      if (pw && (pw.toLowerCase().includes(body.username) || pw.toLowerCase().includes(body.domain))) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'password must not contain the username or domain' });
      }
    }
  });

export type ProvisionAccountBody = z.infer<typeof provisionAccountBody>;

/** What provisionAccount receives: the validated body with the node resolved and logins derived. */
export interface ProvisionAccountInput {
  username: string;
  domain: string;
  node: string;
  nodeIp: string;
  mailboxes: { local: string; password: string }[];
  ftp?: { password: string };
  database?: { name: string; user: string; password: string };
  tls: boolean;
}

export const usernameParam = z.object({ username: usernameSchema });
