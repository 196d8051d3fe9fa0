import net from 'node:net';
import { z } from 'zod';
import { passwordSchema } from './account-input';
import { DATABASE_NAME_RULE, domainSchema, hostKeyFingerprintSchema, isDatabaseName, mailLocalSchema, nodeIdSchema, sourceDatabaseSchema, sshHostSchema, sshUserSchema, RESERVED_DATABASES, targetDatabaseName, usernameSchema } from './names';
import { RESOLVE_ACTIONS } from './constants';

/**
 * The contract of site migrations, written once: `POST /api/v1/migrations` validates with these schemas and
 * migrateSite takes the derived input (workflows import this file with `import type` only: it uses node:net).
 */

const absolutePath = z
  .string()
  .max(4096)
  .refine((v) => v.startsWith('/'), 'must be an absolute path')
  .refine((v) => !/[\x00-\x1f\x7f]/.test(v), 'must not contain control characters')
  .refine((v) => !v.split('/').includes('..'), "must not contain '..'");

export const migrationSourceSchema = z
  .object({
    host: sshHostSchema,
    port: z.number().int().min(1).max(65535).default(22),
    user: sshUserSchema,
    privateKey: z.string().min(64).max(16_384).optional(),
    password: z.string().min(1).max(256).optional(),
    hostKeyFingerprint: hostKeyFingerprintSchema,
    docroot: absolutePath,
    ip: z.string().refine((v) => net.isIPv4(v), 'must be an IPv4 address'),
    databases: z.array(z.object({ name: sourceDatabaseSchema }).strict()).max(20).default([]),
    /**
     * Each maildir becomes `<local>@<domain>` on the target. `password` is the new mailbox password; without
     * one a password is generated and returned once in the workflow result (`mailboxPasswords`), which the
     * payload codec encrypts in history and the API shows to admins and the account's own customer only.
     */
    mailboxes: z.array(z.object({ local: mailLocalSchema, maildir: absolutePath, password: passwordSchema.optional() }).strict()).max(200).default([]),
  })
  .strict()
  .refine((s) => Boolean(s.privateKey) !== Boolean(s.password), { message: 'give exactly one of privateKey or password', path: ['privateKey'] });

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
      if (seen.has(m.local)) ctx.addIssue({ code: 'custom', path: ['source', 'mailboxes', i, 'local'], message: `duplicate mailbox ${m.local}` });
      seen.add(m.local);
      const pw = m.password?.toLowerCase();
      if (pw && (pw.includes(body.account) || pw.includes(body.domain))) {
        ctx.addIssue({ code: 'custom', path: ['source', 'mailboxes', i, 'password'], message: 'password must not contain the account or domain' });
      }
    });
    body.source.databases.forEach((d, i) => {
      const target = targetDatabaseName(body.account, d.name);
      // The target must pass the customer database rule, as ensureCustomerDatabase checks it again.
      const why = target.length > 32 ? 'would exceed 32 characters' : RESERVED_DATABASES.has(target) ? 'is a reserved name' : DATABASE_NAME_RULE;
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
