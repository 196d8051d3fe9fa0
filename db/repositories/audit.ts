import { asc, desc, eq, lt } from 'drizzle-orm';
import type { Db } from '../client';
import { auditEvents, type AuditAction, type AuditOutcome } from '../schema';

export interface AuditEventInput {
  workflowId: string;
  workflowType: string;
  step: string;
  action: AuditAction;
  outcome: AuditOutcome;
  actor: string;
  account?: string | null;
  domain?: string | null;
  details?: Record<string, unknown> | null;
  /** Defaults to the database's clock. */
  at?: Date;
}

export type AuditEvent = typeof auditEvents.$inferSelect;

/** The audit trail: append and read only; the one delete is the retention prune. */
export function createAuditRepository(db: Db) {
  return {
    async append(event: AuditEventInput): Promise<number> {
      const [row] = await db
        .insert(auditEvents)
        .values({ ...event, account: event.account ?? null, domain: event.domain ?? null, details: event.details ?? null })
        .$returningId();
      return row!.id;
    },

    /** Several rows in one multi-row INSERT (a workflow's audit flush: one round trip, not one per step). */
    async appendMany(events: AuditEventInput[]): Promise<void> {
      if (events.length === 0) return;
      await db
        .insert(auditEvents)
        .values(events.map((e) => ({ ...e, account: e.account ?? null, domain: e.domain ?? null, details: e.details ?? null })));
    },

    /** Everything one workflow (one correlation ID) did, in order. */
    listByWorkflow(workflowId: string): Promise<AuditEvent[]> {
      return db.select().from(auditEvents).where(eq(auditEvents.workflowId, workflowId)).orderBy(asc(auditEvents.id));
    },

    /** Newest first, optionally for one account, for the API's history views. */
    list(filter: { account?: string; limit?: number } = {}): Promise<AuditEvent[]> {
      return db
        .select()
        .from(auditEvents)
        .where(filter.account ? eq(auditEvents.account, filter.account) : undefined)
        .orderBy(desc(auditEvents.id))
        .limit(Math.min(filter.limit ?? 100, 1000));
    },

    /**
     * Deletes up to `batchSize` rows older than `cutoff` (strictly before it) and returns how many went. The
     * retention job calls it in a loop until it returns less than `batchSize`: small batches keep each
     * transaction and its locks short on a table the workflows keep appending to.
     */
    async pruneOlderThan(cutoff: Date, batchSize: number): Promise<number> {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
      const [result] = await db.delete(auditEvents).where(lt(auditEvents.at, cutoff)).orderBy(asc(auditEvents.id)).limit(batchSize);
      return result.affectedRows;
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
