import { continueAsNew, log, workflowInfo } from '@temporalio/workflow';
import { auditRetentionActivities } from './activity-proxies';

export interface PruneAuditEventsInput {
  /** Rows older than this many days go (temporal.yaml schedules.auditRetention.keepDays; 365 by default). */
  keepDays: number;
  batchSize: number;
  /** Set only by continue-as-new: the cutoff of the first run, so a long prune keeps one boundary. */
  cutoff?: string;
  /** Rows deleted by earlier runs of this chain. */
  deletedBefore?: number;
}

export interface PruneAuditEventsResult {
  cutoff: string;
  deleted: number;
  batches: number;
}

const { pruneAuditBatch } = auditRetentionActivities();

/** Each batch adds a handful of events; well under the 50k-event history limit, then continue-as-new. */
const BATCHES_PER_RUN = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The audit retention job, started daily by the `npanel-audit-retention` Schedule: deletes audit rows older
 * than `keepDays` in batches of `batchSize` until a batch comes back short. Small batches keep each DELETE
 * and its locks short on a table workflows keep appending to; the cutoff is computed once (workflow time,
 * deterministic) so rows that age past it during the run wait for tomorrow.
 */
export async function pruneAuditEvents(input: PruneAuditEventsInput): Promise<PruneAuditEventsResult> {
  const cutoff = input.cutoff ?? new Date(Date.now() - input.keepDays * DAY_MS).toISOString();
  let deleted = input.deletedBefore ?? 0;
  for (let batch = 1; batch <= BATCHES_PER_RUN; batch++) {
    const { deleted: n } = await pruneAuditBatch({ cutoff, batchSize: input.batchSize });
    deleted += n;
    if (n < input.batchSize) {
      log.info('audit retention done', { cutoff, deleted });
      return { cutoff, deleted, batches: batch };
    }
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return continueAsNew<typeof pruneAuditEvents>({ ...input, cutoff, deletedBefore: deleted });
}
