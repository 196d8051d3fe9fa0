import { index, mysqlEnum, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, updatedAt } from '../columns';
import { nodes } from './nodes';

export const ACCOUNT_STATUSES = ['provisioning', 'active', 'suspended', 'failed', 'rolled_back', 'deprovisioning', 'deleted'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** Statuses of an account that is gone: such a row never blocks a new account with the same name or domain. */
export const FINISHED_ACCOUNT_STATUSES: readonly AccountStatus[] = ['rolled_back', 'deleted'];

/**
 * Statuses in which a domain's certificate may be issued or renewed: an active account, and one being
 * provisioned (its first issuance). A suspended, failed or deprovisioning account gets none (issue 11, bounds).
 */
export const CERTIFICATE_ACCOUNT_STATUSES: readonly AccountStatus[] = ['active', 'provisioning'];

/**
 * Hosting accounts.
 *
 * Re-creating a username after it was deleted: the row is DELETED when an account is deprovisioned or its
 * provisioning is rolled back (repositories/accounts.ts `remove`), and its history lives on in audit_events,
 * which has no foreign key to this table. So plain unique keys on username and domain are enough, and they stay
 * the single guard against two concurrent reservations. A row left in a finished status (a workflow that set
 * the status but died before removing it) is purged by the next `reserve` of the same name.
 * (The alternative, a unique key over a generated column that is NULL for finished rows, would keep dead rows
 * forever and make every lookup by username ambiguous.)
 */
export const accounts = mysqlTable(
  'accounts',
  {
    id: id(),
    username: varchar('username', { length: 16 }).notNull(),
    domain: varchar('domain', { length: 253 }).notNull(),
    nodeId: varchar('node_id', { length: 32 })
      .notNull()
      .references(() => nodes.id),
    status: mysqlEnum('status', ACCOUNT_STATUSES).notNull().default('provisioning'),
    /** The last workflow that changed this account: the correlation ID to look for in the audit trail. */
    workflowId: varchar('workflow_id', { length: 255 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('accounts_username_uq').on(t.username),
    uniqueIndex('accounts_domain_uq').on(t.domain),
    index('accounts_status_idx').on(t.status),
  ],
);

export type AccountRow = typeof accounts.$inferSelect;
