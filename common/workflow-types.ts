/**
 * Every workflow type NPanel runs, each named once with what starting it and reading it takes: the task queue,
 * how its ID is built, the search attributes it starts with, the name of its progress query and who starts
 * it. The API (start, retry, describe), the worker's schedules, the OpenAPI enum the UI builds its filter from,
 * the metrics and the tests all read this table; `workflows/index.ts` exports one function per key (a unit
 * test holds them equal). Pure: workflows import this file.
 */
import { CONTROL_TASK_QUEUE } from './task-queues';
import { workflowIds } from './workflow-ids';

/** Search attributes a start may set (NpanelStatus is always set: `running`). */
export type StartAttribute = 'account' | 'domain' | 'node';

/** Who starts a workflow of the type: the API (`POST …`), a Temporal Schedule, another workflow, an operator's script. */
export type Starter = 'api' | 'schedule' | 'workflow' | 'operator';

/**
 * The progress queries, one name per answer type: `progress` is the step timeline (workflows/steps.ts), the
 * others carry their own shapes. The API asks each workflow the query its type names here.
 */
export const PROGRESS_QUERIES = { steps: 'progress', sweep: 'sweepProgress', timer: 'timerProgress' } as const;
export type ProgressQueryName = (typeof PROGRESS_QUERIES)[keyof typeof PROGRESS_QUERIES];

export interface WorkflowTypeSpec {
  taskQueue: string;
  /** How its workflow ID is built (common/workflow-ids.ts); schedules take theirs from temporal.yaml. */
  id: ((...parts: string[]) => string) | 'schedule';
  attributes: readonly StartAttribute[];
  /** null: the type answers no progress query (the API shows `progress: null`). */
  progressQuery: ProgressQueryName | null;
  startedBy: readonly Starter[];
}

const ACCOUNT: readonly StartAttribute[] = ['account', 'domain', 'node'];

export const WORKFLOW_REGISTRY = {
  provisionAccount: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.provision,
    attributes: ACCOUNT,
    progressQuery: PROGRESS_QUERIES.steps,
    startedBy: ['api', 'workflow'],
  },
  deprovisionAccount: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.deprovision,
    attributes: ACCOUNT,
    progressQuery: PROGRESS_QUERIES.steps,
    startedBy: ['api'],
  },
  suspendAccount: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.suspend,
    attributes: ACCOUNT,
    progressQuery: PROGRESS_QUERIES.steps,
    startedBy: ['api'],
  },
  unsuspendAccount: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.unsuspend,
    attributes: ACCOUNT,
    progressQuery: PROGRESS_QUERIES.steps,
    startedBy: ['api'],
  },
  migrateSite: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.migrate,
    attributes: ACCOUNT,
    progressQuery: PROGRESS_QUERIES.steps,
    startedBy: ['api'],
  },
  renewCertificate: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.certificate,
    attributes: ACCOUNT,
    progressQuery: PROGRESS_QUERIES.steps,
    startedBy: ['api', 'workflow'],
  },
  removeCertificate: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.certificate,
    attributes: ['domain'],
    progressQuery: PROGRESS_QUERIES.steps,
    startedBy: ['workflow'],
  },
  certificateRenewalSweep: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: 'schedule',
    attributes: [],
    progressQuery: PROGRESS_QUERIES.sweep,
    startedBy: ['schedule'],
  },
  pruneAuditEvents: { taskQueue: CONTROL_TASK_QUEUE, id: 'schedule', attributes: [], progressQuery: null, startedBy: ['schedule'] },
  waitForTimer: {
    taskQueue: CONTROL_TASK_QUEUE,
    id: workflowIds.timer,
    attributes: [],
    progressQuery: PROGRESS_QUERIES.timer,
    startedBy: ['operator'],
  },
} as const satisfies Record<string, WorkflowTypeSpec>;

export type WorkflowType = keyof typeof WORKFLOW_REGISTRY;

export const WORKFLOW_TYPES = Object.keys(WORKFLOW_REGISTRY) as [WorkflowType, ...WorkflowType[]];

export function isWorkflowType(type: string): type is WorkflowType {
  return Object.hasOwn(WORKFLOW_REGISTRY, type);
}

/** The progress query of a type; `progress` for a type this build does not know (its answer is shown as is). */
export function progressQueryOf(type: string): ProgressQueryName | null {
  return isWorkflowType(type) ? WORKFLOW_REGISTRY[type].progressQuery : PROGRESS_QUERIES.steps;
}
