import { char, mysqlEnum, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ts } from '../columns';

export const TOKEN_ROLES = ['admin', 'customer'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Bearer tokens of the API. Only the SHA-256 of a token is stored; the plain token is shown once at creation. */
export const apiTokens = mysqlTable(
  'api_tokens',
  {
    id: id(),
    tokenHash: char('token_hash', { length: 64 }).notNull(),
    role: mysqlEnum('role', TOKEN_ROLES).notNull(),
    /** The account a customer token is limited to; null for admin tokens. No foreign key: tokens are revoked, not cascaded. */
    account: varchar('account', { length: 16 }),
    label: varchar('label', { length: 255 }),
    createdAt: createdAt(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_token_hash_uq').on(t.tokenHash)],
);

export type ApiTokenRow = typeof apiTokens.$inferSelect;
