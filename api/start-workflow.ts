import type { Client } from '@temporalio/client';
import type { FastifyReply } from 'fastify';
import { startAttributes } from '../common/search-attribute-keys';
import { WORKFLOW_REGISTRY, type StartAttribute, type WorkflowType } from '../common/workflow-types';

export interface WorkflowStart {
  type: WorkflowType;
  workflowId: string;
  args: unknown[];
  /** Search attribute values; only those the type's registry entry lists are set. */
  attributes: Partial<Record<StartAttribute, string | null | undefined>>;
  memo?: Record<string, unknown>;
  /** Join a run of the same ID that is still open instead of failing (the per-domain certificate ID). */
  joinRunning?: boolean;
}

/**
 * The one way the API starts a workflow: the queue and the search attributes come from the type's registry
 * entry (common/workflow-types.ts), so every route and the retry start a type the same way.
 */
export async function startWorkflow(temporal: Client, start: WorkflowStart): Promise<void> {
  const spec = WORKFLOW_REGISTRY[start.type];
  const attributes: Partial<Record<StartAttribute, string>> = {};
  for (const key of spec.attributes) {
    const value = start.attributes[key];
    if (value) attributes[key] = value;
  }
  await temporal.workflow.start(start.type, {
    taskQueue: spec.taskQueue,
    workflowId: start.workflowId,
    args: start.args,
    typedSearchAttributes: startAttributes(attributes),
    ...(start.memo ? { memo: start.memo } : {}),
    ...(start.joinRunning ? { workflowIdConflictPolicy: 'USE_EXISTING' as const } : {}),
  });
}

/** The answer to a started workflow: 202, its ID in the body and in `x-correlation-id`. */
export function accepted<T extends Record<string, unknown>>(reply: FastifyReply, workflowId: string, extra?: T) {
  reply.header('x-correlation-id', workflowId);
  return reply.status(202).send({ workflowId, ...extra });
}
