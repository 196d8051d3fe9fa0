import { ApplicationFailure } from '@temporalio/common';
import type { Repositories } from '../db/repositories';
import { FAILURE } from '../common/failure-types';

export interface PruneAuditBatchInput {
  /** ISO time: rows strictly older go. Fixed by the workflow once per run, so every batch agrees. */
  cutoff: string;
  batchSize: number;
}

/**
 * The audit retention job's one side effect: delete one batch of audit rows older than the cutoff, oldest
 * first, by primary key order and LIMIT (audit_events has no foreign keys either way, so nothing cascades).
 * Idempotent: a retry deletes the next rows past the same cutoff, or none.
 */
export function createAuditRetentionActivities(repos: Pick<Repositories, 'audit'>) {
  return {
    async pruneAuditBatch(input: PruneAuditBatchInput): Promise<{ deleted: number }> {
      const cutoff = new Date(input.cutoff);
      if (Number.isNaN(cutoff.getTime()))
        throw ApplicationFailure.nonRetryable(`invalid cutoff ${input.cutoff}`, FAILURE.AuditRetentionInvalid);
      if (!Number.isInteger(input.batchSize) || input.batchSize < 1 || input.batchSize > 100_000) {
        throw ApplicationFailure.nonRetryable(`batchSize must be 1..100000, got ${input.batchSize}`, FAILURE.AuditRetentionInvalid);
      }
      return { deleted: await repos.audit.pruneOlderThan(cutoff, input.batchSize) };
    },
  };
}
