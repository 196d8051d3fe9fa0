import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../../common/task-queues';
import { createApiMetrics, type ApiMetrics } from '../../lib/metrics-api';
import type { AppDeps } from '../deps';
import { ApiError } from '../api-error';
import { isTrustedCaller } from '../trusted-caller';

declare module 'fastify' {
  interface FastifyInstance {
    /** The API's metrics (the health plugin records readiness results into it). */
    metrics: ApiMetrics;
  }
}

/**
 * `GET /metrics` (Prometheus text) and the RED metrics of every route. The route label is the route pattern
 * (`/api/v1/accounts/:username`), never the raw URL: one series per route, whatever the IDs; requests that
 * match no route share `unmatched`. Event streams (SSE) count as requests but stay out of the duration
 * histogram: a stream open for an hour is not a slow request and would drown the p95.
 *
 * No token needed on the loopback listener, where Prometheus scrapes it; from anywhere else (through nginx)
 * only with an admin token: it names certificate domains. nginx refuses the path on every port as well.
 */
export const metricsPlugin = fp<{ deps: AppDeps }>(
  async (app: FastifyInstance, { deps }) => {
    const metrics = createApiMetrics({
      temporal: deps.temporal,
      namespace: deps.namespace,
      inventory: deps.inventoryReadings,
      diskPaths: deps.healthDiskPaths,
      taskQueues: async () => [
        { queue: CONTROL_TASK_QUEUE, kind: 'workflow' as const },
        { queue: CONTROL_TASK_QUEUE, kind: 'activity' as const },
        ...(await deps.repos.nodes.list()).map((n) => ({ queue: n.taskQueue || nodeTaskQueue(n.id), kind: 'activity' as const })),
      ],
    });
    app.decorate('metrics', metrics);

    app.addHook('onResponse', async (request, reply) => {
      const labels = { route: request.routeOptions.url ?? 'unmatched', method: request.method, status_code: String(reply.statusCode) };
      metrics.requests.inc(labels);
      if (!String(reply.getHeader('content-type') ?? '').startsWith('text/event-stream')) {
        metrics.duration.observe(labels, reply.elapsedTime / 1000);
      }
    });

    app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      if (!(await isTrustedCaller(request, deps.verifyToken)))
        throw ApiError.forbidden('metrics are for the monitoring host (loopback) or an admin token');
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  },
  { name: 'npanel-metrics' },
);
