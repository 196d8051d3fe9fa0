/**
 * NPanel's task queues, the one place they are named: workflows route activities by these names at bundle
 * time, so they cannot come from a config file (temporal.yaml names none). The worker polls them, the API
 * starts workflows on CONTROL_TASK_QUEUE (via the workflow-type registry), health checks and metrics watch
 * them. Pure: workflows import this file.
 */

/** Workflows and control-plane activities (inventory, PowerDNS API, ACME). */
export const CONTROL_TASK_QUEUE = 'npanel';
export const NODE_TASK_QUEUE_PREFIX = 'npanel-node-';

/** The task queue a hosting node's worker polls for node-local activities (nginx, files, mail, FTP, MySQL). */
export function nodeTaskQueue(nodeId: string): string {
  return `${NODE_TASK_QUEUE_PREFIX}${nodeId}`;
}
