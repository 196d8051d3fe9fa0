import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type { WorkflowStatus } from '../common/constants';

/**
 * Temporal's execution status in NPanel's status words. A running workflow that waits at an operator gate
 * reports `awaiting_operator` (from the NpanelStatus search attribute the workflow keeps current).
 */
export function toWorkflowStatus(status: WorkflowExecutionStatusName, phase: string | undefined): WorkflowStatus {
  switch (status) {
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
      return phase === 'awaiting_operator' ? 'awaiting_operator' : 'running';
    case 'COMPLETED':
      return 'completed';
    case 'FAILED':
      return 'failed';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed_out';
    default:
      return 'running';
  }
}

/** Visibility-query fragment for a status filter. Values come from a closed enum, never from free text. */
export function statusQuery(status: WorkflowStatus): string {
  switch (status) {
    case 'running':
      return `ExecutionStatus = 'Running' AND (NpanelStatus IS NULL OR NpanelStatus != 'awaiting_operator')`;
    case 'awaiting_operator':
      return `ExecutionStatus = 'Running' AND NpanelStatus = 'awaiting_operator'`;
    case 'completed':
      return `ExecutionStatus = 'Completed'`;
    case 'failed':
      return `ExecutionStatus = 'Failed'`;
    case 'cancelled':
      return `ExecutionStatus = 'Canceled'`;
    case 'terminated':
      return `ExecutionStatus = 'Terminated'`;
    case 'timed_out':
      return `ExecutionStatus = 'TimedOut'`;
  }
}
