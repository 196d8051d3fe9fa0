import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, workflowDetail, workflowIdParam, workflowListQuery, workflowStarted, workflowSummary } from '../../common/api-schemas';
import { SEARCH_ATTRIBUTES } from '../../common/constants';
import { ApiError } from '../api-error';
import { accountScope } from '../auth';
import type { AppDeps } from '../deps';
import { statusQuery } from '../workflow-status';
import { describeWorkflow, summarize } from '../workflow-view';
import { createListCache } from '../list-cache';

/** Generic workflow routes: list with filters, describe (status, progress, result or error), cancel. */
export const workflowsPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const { temporal, temporalUiUrl, namespace } = deps;
  // 250 ms: a burst of identical list requests costs one visibility query (see list-cache.ts). The cache
  // holds the answer already checked against the response schema and serialized: under a burst, parsing and
  // stringifying 50 rows per request was the largest share of the route's own CPU (bench/api.ts).
  // Kept warm for 10 s after the last request, so a console or script polling the list never waits for one.
  const listCache = createListCache<string>({ ttlMs: 250, keepWarmMs: 10_000 });
  app.addHook('onClose', async () => listCache.close());
  const listAnswer = z.object({ workflows: z.array(workflowSummary) });

  app.get(
    '/api/v1/workflows',
    {
      schema: { querystring: workflowListQuery, response: { 200: listAnswer, 400: errorBody } },
    },
    async (request, reply) => {
      const q = request.query;
      const scope = accountScope(request);
      const clauses: string[] = [];
      // Every value below passed a closed pattern (no quotes), so building the visibility query is safe.
      if (q.type) clauses.push(`WorkflowType = '${q.type}'`);
      if (q.status) clauses.push(statusQuery(q.status));
      if (q.account) clauses.push(`${SEARCH_ATTRIBUTES.account} = '${q.account}'`);
      if (scope !== undefined) clauses.push(`${SEARCH_ATTRIBUTES.account} = '${scope.replace(/[^a-z0-9]/g, '')}'`);
      if (q.domain) clauses.push(`${SEARCH_ATTRIBUTES.domain} = '${q.domain}'`);
      if (q.id) clauses.push(`WorkflowId STARTS_WITH '${q.id}'`);
      const query = clauses.join(' AND ') || undefined;
      const body = await listCache(`${query ?? ''}|${q.limit}`, async () => {
        const rows = [];
        for await (const info of temporal.workflow.list({ query, pageSize: q.limit })) {
          rows.push(summarize(info));
          if (rows.length >= q.limit) break;
        }
        return JSON.stringify(listAnswer.parse({ workflows: rows }));
      });
      // A string with a JSON content type goes out as is (Fastify serializes only objects); the type provider
      // knows only the object form, and this string is that object, checked and serialized.
      return reply.type('application/json; charset=utf-8').send(body as unknown as z.infer<typeof listAnswer>);
    },
  );

  app.get(
    '/api/v1/workflows/:id',
    {
      schema: { params: workflowIdParam, response: { 200: workflowDetail, 404: errorBody } },
    },
    async (request, reply) => {
      const detail = await describeWorkflow(temporal, request.params.id);
      const scope = accountScope(request);
      // A customer gets 404, not 403, for another account's workflow: existence is not disclosed.
      if (!detail || (scope !== undefined && detail.account !== scope)) throw ApiError.notFound(`workflow ${request.params.id}`);
      reply.header('x-correlation-id', detail.workflowId);
      return { ...detail, temporalUi: `${temporalUiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(detail.workflowId)}` };
    },
  );

  app.post(
    '/api/v1/workflows/:id/cancel',
    {
      config: { access: 'admin' },
      schema: { params: workflowIdParam, response: { 202: workflowStarted, 404: errorBody, 409: errorBody } },
    },
    async (request, reply) => {
      const id = request.params.id;
      const detail = await describeWorkflow(temporal, id);
      if (!detail) throw ApiError.notFound(`workflow ${id}`);
      if (detail.closedAt) throw ApiError.conflict(`workflow ${id} is already ${detail.status}`, id);
      await temporal.workflow.getHandle(id).cancel();
      reply.header('x-correlation-id', id);
      return reply.status(202).send({ workflowId: id });
    },
  );
};
