import { index, mysqlEnum, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { sql } from 'drizzle-orm';
import { id, jsonValue, ts } from '../columns';

export const AUDIT_ACTIONS = ['do', 'undo', 'info'] as const;
export const AUDIT_OUTCOMES = ['ok', 'failed', 'skipped'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * The audit trail: append-only, keyed by workflow ID (the correlation ID). It names accounts and domains by
 * value and has NO foreign keys either way, so deleting an account never deletes or blocks its history; only
 * the retention job (`pruneOlderThan`) removes rows.
 */
export const auditEvents = mysqlTable(
  'audit_events',
  {
    id: id(),
    at: ts('at')
      .notNull()
      .default(sql`CURRENT_TIMESTAMP(3)`),
    workflowId: varchar('workflow_id', { length: 255 }).notNull(),
    workflowType: varchar('workflow_type', { length: 64 }).notNull(),
    step: varchar('step', { length: 128 }).notNull(),
    action: mysqlEnum('action', AUDIT_ACTIONS).notNull(),
    outcome: mysqlEnum('outcome', AUDIT_OUTCOMES).notNull(),
    /** Who asked: an API token label/id, `system`, `schedule`... */
    actor: varchar('actor', { length: 255 }).notNull(),
    account: varchar('account', { length: 16 }),
    domain: varchar('domain', { length: 253 }),
    /** Small structured facts (counts, serials, error messages). Never secrets, never file contents. */
    details: jsonValue('details'),
  },
  (t) => [
    index('audit_events_at_idx').on(t.at),
    index('audit_events_workflow_id_idx').on(t.workflowId),
    index('audit_events_account_idx').on(t.account),
  ],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
