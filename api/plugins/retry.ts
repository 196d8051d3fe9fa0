import type { WorkflowExecutionDescription } from '@temporalio/client';
import { arrayFromPayloads, type LoadedDataConverter, type Payload } from '@temporalio/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ulid } from 'ulid';
import { z } from 'zod';
import type { ProvisionAccountInput } from '../../common/account-input';
import { errorBody, workflowIdParam, workflowStarted } from '../../common/api-schemas';
import { workflowIds } from '../../common/workflow-ids';
import { isWorkflowType } from '../../common/workflow-types';
import { ApiError } from '../api-error';
import type { AppDeps } from '../deps';
import { reserveAndStartProvision } from '../provision-start';
import { accepted, startWorkflow } from '../start-workflow';
import { summarize } from '../workflow-view';

/** Statuses a workflow may be retried from: it ended without doing its job. */
const RETRYABLE = new Set(['failed', 'cancelled', 'terminated', 'timed_out']);

/** The memo key linking a retry to the run it repeats (visible in Temporal Web and to `describe`). */
export const RETRY_OF_MEMO = 'retryOf';

/**
 * The arguments of a start event, through the client's own data converter (the codec decrypts in memory only):
 * codecs in reverse order, then the payload converter, with the SDK's public API only.
 */
async function decodeArgs(converter: LoadedDataConverter, payloads: Payload[] | null | undefined): Promise<unknown[]> {
  let decoded = payloads ?? [];
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return arrayFromPayloads(converter.payloadConverter, decoded);
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

  app.post(
    '/api/v1/workflows/:id/retry',
    {
      config: { access: 'admin' },
      schema: {
        params: workflowIdParam,
        response: { 202: workflowStarted.extend({ retryOf: z.string() }), 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
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
      if (!isWorkflowType(summary.type))
        throw ApiError.conflict(`workflow ${oldId} is of type ${summary.type}, which this API does not start`, oldId);
      if (!RETRYABLE.has(summary.status))
        throw ApiError.conflict(
          `workflow ${oldId} is ${summary.status}: only a failed, cancelled, terminated or timed-out workflow can be retried`,
          oldId,
        );

      const history = await handle.fetchHistory();
      const startedEvent = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      if (!startedEvent) throw new Error(`history of ${oldId} has no start event`);
      const args = await decodeArgs(
        temporal.workflow.options.loadedDataConverter,
        startedEvent.input?.payloads as Payload[] | null | undefined,
      );

      const workflowId = workflowIds.retry(oldId, ulid().toLowerCase());
      const memo = { [RETRY_OF_MEMO]: oldId };
      if (summary.type === 'provisionAccount') {
        await reserveAndStartProvision(deps, args[0] as ProvisionAccountInput, workflowId, memo);
      } else {
        await startWorkflow(temporal, { type: summary.type, workflowId, args, memo, attributes: summary });
      }
      request.log.info({ correlationId: workflowId, retryOf: oldId }, 'workflow retried');
      return accepted(reply, workflowId, { retryOf: oldId });
    },
  );
};
