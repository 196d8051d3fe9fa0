import { z } from 'zod';
import { passwordSchema } from './account-input';
import {
  DATABASE_NAME_RULE,
  domainSchema,
  hostKeyFingerprintSchema,
  isDatabaseName,
  mailLocalSchema,
  nodeIdSchema,
  sourceDatabaseSchema,
  sshHostSchema,
  sshUserSchema,
  RESERVED_DATABASES,
  targetDatabaseName,
  usernameSchema,
} from './names';
import { RESOLVE_ACTIONS } from './constants';

/**
 * The contract of site migrations, written once: `POST /api/v1/migrations` validates with these schemas and
 * migrateSite takes the derived input (workflows import this file with `import type` only: account-input uses node:url).
 */

/**
 * An absolute path as one pattern, so the published schema states the whole rule: a leading `/`, no control
 * character, no `..` segment. A segment is empty, `.`, or anything of no `/` and no control character except
 * exactly `..` (no lookahead: the pattern must be usable by JSON Schema clients and fuzzers as written).
 */
const PATH_CHAR = '[^/\\x00-\\x1f\\x7f]';
const PATH_SEGMENT = `(?:\\.|[^/.\\x00-\\x1f\\x7f]${PATH_CHAR}*|\\.[^/.\\x00-\\x1f\\x7f]${PATH_CHAR}*|\\.\\.${PATH_CHAR}+)?`;
const absolutePath = z
  .string()
  .max(4096)
  .regex(new RegExp(`^(?:/${PATH_SEGMENT})+$`), "must be an absolute path without control characters or '..' segments");

/** IPv4 in dotted decimal, no leading zeros (what `net.isIPv4` takes), as a pattern the schema publishes. */
const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

const sourceFields = {
  host: sshHostSchema,
  port: z.number().int().min(1).max(65535).default(22),
  user: sshUserSchema,
  hostKeyFingerprint: hostKeyFingerprintSchema,
  docroot: absolutePath,
  ip: z.string().regex(IPV4, 'must be an IPv4 address'),
  databases: z
    .array(z.object({ name: sourceDatabaseSchema }).strict())
    .max(20)
    .default([]),
  /**
   * Each maildir becomes `<local>@<domain>` on the target. `password` is the new mailbox password; without
   * one a password is generated and returned once in the workflow result (`mailboxPasswords`), which the
   * payload codec encrypts in history and the API shows to admins and the account's own customer only.
   */
  mailboxes: z
    .array(z.object({ local: mailLocalSchema, maildir: absolutePath, password: passwordSchema.optional() }).strict())
    .max(200)
    .default([]),
};

const EXACTLY_ONE = 'give exactly one of privateKey or password';
/** The other credential's field in a shape: present at all is the error, named on that field. */
const absent = z.never({ error: EXACTLY_ONE }).optional();

/**
 * The source logs in with exactly one credential: one shape per credential (OpenAPI `anyOf` of two closed
 * objects), so the published schema says it. Neither or both (no shape fits) is refused on `source` itself with
 * the same message; any other mistake is named on its own field (zod reports the shape that fits best).
 */
export const migrationSourceSchema = z.union(
  [
    z.object({ ...sourceFields, privateKey: z.string().min(64).max(16_384), password: absent }).strict(),
    z.object({ ...sourceFields, password: z.string().min(1).max(256), privateKey: absent }).strict(),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? EXACTLY_ONE : undefined) },
);

export const migrateSiteBody = z
  .object({
    domain: domainSchema,
    account: usernameSchema,
    node: nodeIdSchema.optional(),
    cutover: z.enum(['auto', 'manual']).default('auto'),
    source: migrationSourceSchema,
  })
  .strict()
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.source.mailboxes.forEach((m, i) => {
      if (seen.has(m.local))
        ctx.addIssue({ code: 'custom', path: ['source', 'mailboxes', i, 'local'], message: `duplicate mailbox ${m.local}` });
      seen.add(m.local);
      const pw = m.password?.toLowerCase();
      if (pw && (pw.includes(body.account) || pw.includes(body.domain))) {
        ctx.addIssue({
          code: 'custom',
          path: ['source', 'mailboxes', i, 'password'],
          message: 'password must not contain the account or domain',
        });
      }
    });
    body.source.databases.forEach((d, i) => {
      const target = targetDatabaseName(body.account, d.name);
      // The target must pass the customer database rule, as ensureCustomerDatabase checks it again.
      const why =
        target.length > 32 ? 'would exceed 32 characters' : RESERVED_DATABASES.has(target) ? 'is a reserved name' : DATABASE_NAME_RULE;
      if (!isDatabaseName(target)) {
        ctx.addIssue({ code: 'custom', path: ['source', 'databases', i, 'name'], message: `target name ${target} ${why}` });
      }
    });
  });

export type MigrateSiteBody = z.infer<typeof migrateSiteBody>;
export type MigrationSource = z.infer<typeof migrationSourceSchema>;

export interface MigrateSiteInput {
  domain: string;
  account: string;
  node: string;
  nodeIp: string;
  cutover: 'auto' | 'manual';
  source: MigrationSource;
  /** TTL set ahead of cut-over so resolvers pick up the change quickly (seconds). */
  lowTtl?: number;
}

export const resolveBody = z.object({ action: z.enum(RESOLVE_ACTIONS) }).strict();
