/**
 * Names that the worker, the API, the CLI and operators' scripts share. Pure: workflows import this file,
 * so it may not touch Node built-ins.
 */

export const CONTROL_TASK_QUEUE = 'npanel';
export const NODE_TASK_QUEUE_PREFIX = 'npanel-node-';

/** The task queue a hosting node's worker polls for node-local activities (nginx, files, mail, FTP, MySQL). */
export function nodeTaskQueue(nodeId: string): string {
  return `${NODE_TASK_QUEUE_PREFIX}${nodeId}`;
}

/** Custom search attributes; all Keyword so Temporal Web and the API can filter on exact values. */
export const SEARCH_ATTRIBUTES = {
  account: 'NpanelAccount',
  domain: 'NpanelDomain',
  node: 'NpanelNode',
  status: 'NpanelStatus',
} as const;

export const SEARCH_ATTRIBUTE_NAMES = Object.values(SEARCH_ATTRIBUTES);

/** Values of NpanelStatus written by workflows while they run (the API derives final states from Temporal). */
export const WORKFLOW_PHASES = ['running', 'awaiting_operator', 'rolling_back', 'completed', 'failed', 'rolled_back'] as const;
export type WorkflowPhase = (typeof WORKFLOW_PHASES)[number];

/** Status words the API reports for a workflow; operators' scripts match on these exact strings. */
export const WORKFLOW_STATUSES = [
  'running',
  'awaiting_operator',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

export const WORKFLOW_TYPES = [
  'provisionAccount',
  'deprovisionAccount',
  'suspendAccount',
  'unsuspendAccount',
  'migrateSite',
  'renewCertificate',
  'removeCertificate',
  'certificateRenewalSweep',
  'pruneAuditEvents',
  'waitForTimer',
] as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];

/** What an operator may answer at an operator gate (`resolve` update, `POST /api/v1/migrations/:id/resolve`). */
export const RESOLVE_ACTIONS = ['retry', 'skip', 'rollback', 'abort'] as const;
export type ResolveAction = (typeof RESOLVE_ACTIONS)[number];
