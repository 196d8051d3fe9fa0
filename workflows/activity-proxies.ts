import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, NodeActivities } from '../activities';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../common/constants';

/**
 * Named timeout/retry profiles. Forward steps give up after ~3 s of retries (5 attempts, 200 ms doubling) so a
 * dead service turns into a clean rollback quickly; compensations retry far longer, because leaving a
 * half-made account is worse than waiting. Node-queue activities carry a schedule-to-close timeout: a dead
 * node leaves its queue unpolled and the step must fail, not wait forever.
 */
const forwardRetry = { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 } as const;
const undoRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 20 } as const;

export function controlActivities() {
  return proxyActivities<ControlActivities>({ taskQueue: CONTROL_TASK_QUEUE, startToCloseTimeout: '30s', retry: forwardRetry });
}

export function controlUndoActivities() {
  return proxyActivities<ControlActivities>({ taskQueue: CONTROL_TASK_QUEUE, startToCloseTimeout: '30s', retry: undoRetry });
}

export function nodeActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '2m',
    retry: forwardRetry,
  });
}

export function nodeUndoActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '10m',
    retry: undoRetry,
  });
}
