import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBody, workflowIdParam } from '../../common/api-schemas';
import { ApiError } from '../api-error';
import { accountScope } from '../auth';
import type { AppDeps } from '../deps';
import { createStreamSlots } from '../stream-slots';
import { describeWorkflow, type WorkflowDetail } from '../workflow-view';
import { createWorkflowWatch } from '../workflow-watch';
import { EVENT_STREAM } from '../openapi-document';
import { SECURITY_HEADERS } from './security';

/** How often a stream re-reads the workflow: a change reaches the browser within this plus one round trip. */
const POLL_MS = 250;
/** Open streams one token may hold (issue 11, bounds): the 11th is a 429 until one closes. */
export const STREAMS_PER_TOKEN = 10;
/** A comment line now and then keeps idle proxies (nginx, load balancers) from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

interface StepView {
  name: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

function stepsOf(progress: unknown): StepView[] {
  const steps = (progress as { steps?: unknown } | null)?.steps;
  return Array.isArray(steps) ? (steps as StepView[]) : [];
}

/**
 * `GET /api/v1/workflows/:id/events`: Server-Sent Events of one workflow. The server polls describe + the
 * `progress` query every 250 ms (one poll per workflow, shared by all its streams: api/workflow-watch.ts) and
 * sends only what changed; each token holds at most STREAMS_PER_TOKEN streams (api/stream-slots.ts):
 * - `snapshot` once (the whole detail, as `GET /api/v1/workflows/:id`),
 * - `step` per step whose status changed (started, done, failed, undone...),
 * - `progress` when anything in the progress changed (phase, bytes moved, errors),
 * - `status` when the status word changed (e.g. `awaiting_operator`),
 * - `done` when the workflow closed (status, error, result), then the stream ends.
 */
export const eventsPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const open = new Set<ServerResponse>();
  const watch = createWorkflowWatch((id) => describeWorkflow(deps.temporal, id), POLL_MS);
  const slots = createStreamSlots(STREAMS_PER_TOKEN);
  // Fastify waits for open connections on close; a stream never ends on its own, so end them all.
  app.addHook('onClose', async () => {
    for (const res of open) res.end();
  });

  app.get(
    '/api/v1/workflows/:id/events',
    {
      // 200 is the stream itself, written by hand below (OpenAPI: `produces`, api/openapi-document.ts).
      schema: { params: workflowIdParam, produces: [EVENT_STREAM], response: { 404: errorBody, 429: errorBody } },
    },
    async (request, reply) => {
      const id = request.params.id;
      const scope = accountScope(request);
      // Taken before any Temporal call: a token at its bound costs nothing more than this answer.
      const release = slots.take(request.principal!.tokenId);
      if (!release) {
        throw new ApiError(429, 'too_many_streams', `this token already has ${STREAMS_PER_TOKEN} open event streams: close one first`, {
          limit: STREAMS_PER_TOKEN,
        });
      }
      let first: WorkflowDetail | null;
      try {
        first = await describeWorkflow(deps.temporal, id);
      } catch (err) {
        release();
        throw err;
      }
      if (!first || (scope !== undefined && first.account !== scope)) {
        release();
        throw ApiError.notFound(`workflow ${id}`);
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': `${EVENT_STREAM}; charset=utf-8`,
        'cache-control': 'no-store',
        // nginx would otherwise buffer the stream and deliver it in lumps.
        'x-accel-buffering': 'no',
        'x-correlation-id': id,
      });
      open.add(res);
      let seq = 0;
      const send = (event: string, data: unknown) => {
        res.write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      let unsubscribe = () => {};
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        unsubscribe();
        release();
        open.delete(res);
        res.end();
      };
      request.raw.on('close', finish);

      res.write('retry: 1000\n\n');
      const temporalUi = `${deps.temporalUiUrl}/namespaces/${deps.namespace}/workflows/${encodeURIComponent(id)}`;
      send('snapshot', { ...first, temporalUi });
      if (first.closedAt) {
        send('done', { status: first.status, closedAt: first.closedAt, error: first.error, result: first.result });
        return finish();
      }
      let last: WorkflowDetail = first;
      let lastBeat = Date.now();

      unsubscribe = watch.subscribe(id, (update) => {
        if (finished) return;
        if ('error' in update) {
          request.log.warn({ err: update.error, correlationId: id }, 'event stream: describe failed; retrying');
          return;
        }
        let next = update.detail;
        if (!next) return finish();
        // A query that timed out (worker busy or down) says nothing about progress: keep the last one.
        if (next.progress === null && last.progress !== null && !next.closedAt) next = { ...next, progress: last.progress };
        const before = new Map(stepsOf(last.progress).map((s) => [s.name, JSON.stringify(s)]));
        for (const step of stepsOf(next.progress)) {
          if (before.get(step.name) !== JSON.stringify(step)) send('step', step);
        }
        if (JSON.stringify(next.progress) !== JSON.stringify(last.progress)) send('progress', next.progress);
        if (next.status !== last.status) send('status', { status: next.status });
        last = next;
        if (next.closedAt) {
          send('done', { status: next.status, closedAt: next.closedAt, error: next.error, result: next.result });
          return finish();
        }
        if (Date.now() - lastBeat >= KEEPALIVE_MS) {
          res.write(': keep-alive\n\n');
          lastBeat = Date.now();
        }
      });
    },
  );
};
