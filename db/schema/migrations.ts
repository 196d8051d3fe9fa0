import { bigint, index, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, updatedAt } from '../columns';

/**
 * Site migrations (migrateSite workflows), one row per workflow. Temporal owns the step-by-step progress;
 * this row is the inventory's view of it (what moved where, how much was copied) and survives history retention.
 * No foreign keys: a migration's record outlives the account it moved into.
 */
export const migrations = mysqlTable(
  'migrations',
  {
    id: id(),
    workflowId: varchar('workflow_id', { length: 255 }).notNull(),
    domain: varchar('domain', { length: 253 }).notNull(),
    account: varchar('account', { length: 16 }).notNull(),
    nodeId: varchar('node_id', { length: 32 }).notNull(),
    sourceHost: varchar('source_host', { length: 253 }).notNull(),
    /** Free text on purpose: the workflow's phases may grow without a schema migration. */
    status: varchar('status', { length: 32 }).notNull(),
    filesCopied: bigint('files_copied', { mode: 'number', unsigned: true }).notNull().default(0),
    bytesCopied: bigint('bytes_copied', { mode: 'number', unsigned: true }).notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('migrations_workflow_id_uq').on(t.workflowId),
    index('migrations_domain_idx').on(t.domain),
    index('migrations_account_idx').on(t.account),
  ],
);

export type MigrationRow = typeof migrations.$inferSelect;
