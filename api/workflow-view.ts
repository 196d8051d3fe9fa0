import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import { progressQueryOf } from '../common/workflow-types';
import { toWorkflowStatus } from './workflow-status';

export interface WorkflowSummary {
  workflowId: string;
  runId: string;
  type: string;
  status: ReturnType<typeof toWorkflowStatus>;
  account: string | null;
  domain: string | null;
  node: string | null;
  startedAt: string;
  closedAt: string | null;
}

export interface WorkflowDetail extends WorkflowSummary {
  progress: unknown;
  result: unknown;
  error: { message: string; type: string | null } | null;
}

function attr(info: WorkflowExecutionInfo, name: string): string | null {
  const value = info.searchAttributes?.[name];
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : null;
}

export function summarize(info: WorkflowExecutionInfo): WorkflowSummary {
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: toWorkflowStatus(info.status.name, attr(info, SEARCH_ATTRIBUTES.status) ?? undefined),
    account: attr(info, SEARCH_ATTRIBUTES.account),
    domain: attr(info, SEARCH_ATTRIBUTES.domain),
    node: attr(info, SEARCH_ATTRIBUTES.node),
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime ? info.closeTime.toISOString() : null,
  };
}

/** Describe + progress query + result or failure. Null when no such workflow exists. */
export async function describeWorkflow(client: Client, workflowId: string): Promise<WorkflowDetail | null> {
  const handle = client.workflow.getHandle(workflowId);
  let info: WorkflowExecutionInfo;
  try {
    info = (await handle.describe()) as unknown as WorkflowExecutionInfo;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
  const summary = summarize(info);
  let progress: unknown = null;
  const query = progressQueryOf(summary.type);
  try {
    // Each type answers the progress query its registry entry names; a worker that is down makes this time
    // out, not fail the call.
    if (query) progress = await withTimeout(handle.query(query), 2000);
  } catch {
    progress = null;
  }
  let result: unknown = null;
  let error: WorkflowDetail['error'] = null;
  if (summary.status === 'completed') {
    result = await handle.result();
  } else if (summary.closedAt) {
    try {
      await handle.result();
    } catch (err) {
      error = failureOf(err);
    }
  }
  return { ...summary, progress, result, error };
}

function failureOf(err: unknown): { message: string; type: string | null } {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause as (Error & { type?: string; cause?: Error }) | undefined;
    const root = (cause?.cause as (Error & { type?: string }) | undefined) ?? cause;
    return { message: root?.message ?? cause?.message ?? err.message, type: root?.type ?? cause?.type ?? null };
  }
  return { message: (err as Error).message, type: null };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
