import {
  ContinueAsNew,
  isCancellation,
  proxySinks,
  TemporalFailure,
  workflowInfo,
  type Sinks,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { saKeys } from '../common/search-attribute-keys';
import type { WorkflowOutcome } from '../lib/metrics';

/** Sink the worker implements (worker/metrics.ts): metrics are side effects, so they leave the sandbox here. */
export interface MetricsSinks extends Sinks {
  metrics: {
    workflowStarted(): void;
    workflowClosed(outcome: WorkflowOutcome): void;
  };
}

const { metrics } = proxySinks<MetricsSinks>();

/**
 * Counts every workflow run's start and end by type and outcome, for all workflow types at once, so no
 * workflow has to remember to report itself. The API cannot count these (it is not told when a workflow ends);
 * sinks are not called during replay, so a worker restart does not count a run twice. "rolled_back" is read
 * from NpanelStatus, which every saga sets before it ends (a rollback may end in success or failure).
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        metrics.workflowStarted();
        try {
          const result = await next(input);
          metrics.workflowClosed(rolledBack() ? 'rolled_back' : 'completed');
          return result;
        } catch (err) {
          // Any other error only fails the workflow task, which Temporal retries: the run has not ended.
          if (err instanceof ContinueAsNew || err instanceof TemporalFailure) metrics.workflowClosed(outcomeOfError(err));
          throw err;
        }
      },
    },
  ],
});

function rolledBack(): boolean {
  return workflowInfo().typedSearchAttributes.get(saKeys.status) === 'rolled_back';
}

function outcomeOfError(err: unknown): WorkflowOutcome {
  if (err instanceof ContinueAsNew) return 'continued_as_new';
  if (isCancellation(err)) return 'cancelled';
  return rolledBack() ? 'rolled_back' : 'failed';
}
