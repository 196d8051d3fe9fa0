import { z } from 'zod';
import {
  databaseNameSchema,
  databaseUserSchema,
  domainSchema,
  mailLocalSchema,
  nodeIdSchema,
  RESERVED_DATABASE_USERS,
  usernameSchema,
} from './names';

/**
 * The contract of account operations, written once: the API validates bodies with these schemas and the
 * workflows take `z.infer` of them (workflows import this file with `import type` only: the domain rule uses node:url).
 * Every name is normalised (lowercase, trailing dot dropped, IDN to punycode) and then checked against a
 * closed pattern (common/names/, the one rule of each name), so nothing that reaches a path, a config file or
 * a command line can carry metacharacters.
 */

export const passwordSchema = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(128, 'must be at most 128 characters')
  // Patterns, not refinements, so the published schema states them (JSON Schema patterns are unanchored).
  .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters')
  .regex(/[A-Za-z]/, 'must mix letters with digits or symbols')
  .regex(/[^A-Za-z]/, 'must mix letters with digits or symbols')
  .refine((v) => new Set(v).size >= 5, 'is too weak (too few distinct characters)');

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

export const provisionAccountBody = closed({
  username: usernameSchema,
  domain: domainSchema,
  node: nodeIdSchema.optional(),
  mailboxes: z
    .array(closed({ local: mailLocalSchema, password: passwordSchema }))
    .max(50)
    .default([]),
  ftp: closed({ password: passwordSchema }).optional(),
  database: closed({ name: databaseNameSchema, user: databaseUserSchema.optional(), password: passwordSchema }).optional(),
  tls: z.boolean().default(false),
}).superRefine((body, ctx) => {
  // The login defaults to the database name: that derived name must not be a reserved login either.
  if (body.database && !body.database.user && RESERVED_DATABASE_USERS.has(body.database.name)) {
    ctx.addIssue({ code: 'custom', path: ['database', 'name'], message: 'is a reserved login name (set database.user)' });
  }
  const seen = new Set<string>();
  body.mailboxes.forEach((m, i) => {
    if (seen.has(m.local)) ctx.addIssue({ code: 'custom', path: ['mailboxes', i, 'local'], message: `duplicate mailbox ${m.local}` });
    seen.add(m.local);
  });
  const secrets = [
    ...body.mailboxes.map((m) => ['mailboxes', m.password] as const),
    ['ftp', body.ftp?.password] as const,
    ['database', body.database?.password] as const,
  ];
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
