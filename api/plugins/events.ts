import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBody, workflowIdParam } from '../../common/api-schemas';
import { ApiError } from '../api-error';
import { accountScope } from '../auth';
import type { AppDeps } from '../deps';
import { describeWorkflow, type WorkflowDetail } from '../workflow-view';
import { SECURITY_HEADERS } from './security';

/** How often a stream re-reads the workflow: a change reaches the browser within this plus one round trip. */
const POLL_MS = 250;
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
 * `progress` query every 250 ms and sends only what changed:
 * - `snapshot` once (the whole detail, as `GET /api/v1/workflows/:id`),
 * - `step` per step whose status changed (started, done, failed, undone...),
 * - `progress` when anything in the progress changed (phase, bytes moved, errors),
 * - `status` when the status word changed (e.g. `awaiting_operator`),
 * - `done` when the workflow closed (status, error, result), then the stream ends.
 */
export const eventsPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const open = new Set<ServerResponse>();
  // Fastify waits for open connections on close; a stream never ends on its own, so end them all.
  app.addHook('onClose', async () => {
    for (const res of open) res.end();
  });

  app.get('/api/v1/workflows/:id/events', {
    schema: { params: workflowIdParam, response: { 404: errorBody } },
  }, async (request, reply) => {
    const id = request.params.id;
    const scope = accountScope(request);
    const first = await describeWorkflow(deps.temporal, id);
    if (!first || (scope !== undefined && first.account !== scope)) throw ApiError.notFound(`workflow ${id}`);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
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
    let closed = false;
    request.raw.on('close', () => {
      closed = true;
      open.delete(res);
    });

    res.write('retry: 1000\n\n');
    const temporalUi = `${deps.temporalUiUrl}/namespaces/${deps.namespace}/workflows/${encodeURIComponent(id)}`;
    send('snapshot', { ...first, temporalUi });
    let last: WorkflowDetail = first;
    let lastBeat = Date.now();

    while (!closed && !last.closedAt) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (closed) break;
      let next: WorkflowDetail | null;
      try {
        next = await describeWorkflow(deps.temporal, id);
      } catch (err) {
        request.log.warn({ err, correlationId: id }, 'event stream: describe failed; retrying');
        continue;
      }
      if (!next) break;
      // A query that timed out (worker busy or down) says nothing about progress: keep the last one.
      if (next.progress === null && last.progress !== null && !next.closedAt) next = { ...next, progress: last.progress };
      const before = new Map(stepsOf(last.progress).map((s) => [s.name, JSON.stringify(s)]));
      for (const step of stepsOf(next.progress)) {
        if (before.get(step.name) !== JSON.stringify(step)) send('step', step);
      }
      if (JSON.stringify(next.progress) !== JSON.stringify(last.progress)) send('progress', next.progress);
      if (next.status !== last.status) send('status', { status: next.status });
      if (next.closedAt) send('done', { status: next.status, closedAt: next.closedAt, error: next.error, result: next.result });
      last = next;
      if (Date.now() - lastBeat >= KEEPALIVE_MS) {
        res.write(': keep-alive\n\n');
        lastBeat = Date.now();
      }
    }
    if (last.closedAt && seq === 1) send('done', { status: last.status, closedAt: last.closedAt, error: last.error, result: last.result });
    open.delete(res);
    res.end();
  });
};
