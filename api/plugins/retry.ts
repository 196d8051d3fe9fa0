import type { WorkflowExecutionDescription } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ulid } from 'ulid';
import { z } from 'zod';
import type { ProvisionAccountInput } from '../../common/account-input';
import { errorBody, workflowIdParam, workflowStarted } from '../../common/api-schemas';
import { startAttributes } from '../../common/search-attribute-keys';
import { ApiError } from '../api-error';
import type { AppDeps } from '../deps';
import { reserveAndStartProvision } from '../provision-start';
import { summarize } from '../workflow-view';

/** Statuses a workflow may be retried from: it ended without doing its job. */
const RETRYABLE = new Set(['failed', 'cancelled', 'terminated', 'timed_out']);

/** The memo key linking a retry to the run it repeats (visible in Temporal Web and to `describe`). */
export const RETRY_OF_MEMO = 'retryOf';

/** Same prefix (`provision-acme-`), fresh unique suffix: a retry is findable by the same ID search. */
export function retryWorkflowId(oldId: string): string {
  const cut = oldId.lastIndexOf('-');
  const prefix = cut > 0 ? oldId.slice(0, cut) : oldId;
  return `${prefix.slice(0, 170)}-${ulid().toLowerCase()}`;
}

/**
 * `POST /api/v1/workflows/:id/retry`: starts a new run of a workflow that failed, was cancelled, terminated or
 * timed out, with the same input and a new ID linked to the old one (memo `retryOf`). The input is read from
 * the first event of the old history through the client's data converter (the codec decrypts it in memory
 * only), so nothing extra is stored. A provisioning retry claims the account's names again exactly as a new
 * provisioning does.
 */
export const retryPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const { temporal } = deps;

  app.post('/api/v1/workflows/:id/retry', {
    config: { access: 'admin' },
    schema: { params: workflowIdParam, response: { 202: workflowStarted.extend({ retryOf: z.string() }), 404: errorBody, 409: errorBody } },
  }, async (request, reply) => {
    const oldId = request.params.id;
    const handle = temporal.workflow.getHandle(oldId);
    let info: WorkflowExecutionDescription;
    try {
      info = await handle.describe();
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') throw ApiError.notFound(`workflow ${oldId}`);
      throw err;
    }
    const summary = summarize(info as unknown as Parameters<typeof summarize>[0]);
    if (!RETRYABLE.has(summary.status)) throw ApiError.conflict(`workflow ${oldId} is ${summary.status}: only a failed, cancelled, terminated or timed-out workflow can be retried`, oldId);

    const history = await handle.fetchHistory();
    const startedEvent = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!startedEvent) throw new Error(`history of ${oldId} has no start event`);
    const args = await decodeArrayFromPayloads(temporal.workflow.options.loadedDataConverter, startedEvent.input?.payloads);

    const workflowId = retryWorkflowId(oldId);
    const memo = { [RETRY_OF_MEMO]: oldId };
    if (summary.type === 'provisionAccount') {
      await reserveAndStartProvision(deps, args[0] as ProvisionAccountInput, workflowId, memo);
    } else {
      await temporal.workflow.start(summary.type, {
        taskQueue: info.taskQueue,
        workflowId,
        args,
        memo,
        typedSearchAttributes: startAttributes({ account: summary.account ?? undefined, domain: summary.domain ?? undefined, node: summary.node ?? undefined }),
      });
    }
    request.log.info({ correlationId: workflowId, retryOf: oldId }, 'workflow retried');
    reply.header('x-correlation-id', workflowId);
    return reply.status(202).send({ workflowId, retryOf: oldId });
  });
};
