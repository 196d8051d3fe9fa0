/**
 * Names that the worker, the API, the CLI and operators' scripts share (task queues: common/task-queues.ts;
 * workflow types: common/workflow-types.ts). Pure: workflows import this file,
 * so it may not touch Node built-ins.
 */

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
export const WORKFLOW_STATUSES = ['running', 'awaiting_operator', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** What an operator may answer at an operator gate (`resolve` update, `POST /api/v1/migrations/:id/resolve`). */
export const RESOLVE_ACTIONS = ['retry', 'skip', 'rollback', 'abort'] as const;
export type ResolveAction = (typeof RESOLVE_ACTIONS)[number];
