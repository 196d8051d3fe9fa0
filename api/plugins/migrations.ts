import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ulid } from 'ulid';
import { z } from 'zod';
import { errorBody, workflowIdParam, workflowStarted } from '../../common/api-schemas';
import { migrateSiteBody, resolveBody, type MigrateSiteInput } from '../../common/migration-input';
import { workflowIds } from '../../common/workflow-ids';
import { ApiError } from '../api-error';
import { claimNames, migrationFields, migrationNames } from '../name-claims';
import type { AppDeps } from '../deps';
import { accepted, startWorkflow } from '../start-workflow';
import { targetNode } from '../target-node';

const migrationView = z.object({
  workflowId: z.string(),
  domain: z.string(),
  account: z.string(),
  node: z.string(),
  sourceHost: z.string(),
  status: z.string(),
  filesCopied: z.number(),
  bytesCopied: z.number(),
  createdAt: z.string(),
});

const actionResult = z.object({ workflowId: z.string(), action: z.string(), step: z.string().nullable() });

/**
 * Site migrations: start (POST), list, and the operator's answers to a waiting migration (`resolve`, and the
 * `cutover` go of a manual cut-over). The source's key or password travels only inside the workflow input,
 * which the payload codec encrypts; it is never echoed, logged or stored in the inventory.
 */
export const migrationsPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const { temporal, repos } = deps;

  app.post(
    '/api/v1/migrations',
    {
      config: { access: 'admin' },
      schema: { body: migrateSiteBody, response: { 202: workflowStarted, 400: errorBody, 409: errorBody } },
    },
    async (request, reply) => {
      const body = request.body;
      const node = await targetNode(deps, body.node);
      const nodeId = node.id;
      const existing = await repos.accounts.get(body.account);
      if (existing && (existing.domain !== body.domain || existing.nodeId !== nodeId)) {
        throw ApiError.conflict(`account ${body.account} exists for ${existing.domain} on node ${existing.nodeId}`, existing.workflowId, [
          { field: 'body.account', message: 'exists for another domain or node' },
        ]);
      }
      const holder = (await repos.accounts.list({ domain: body.domain })).find((a) => a.username !== body.account);
      if (holder)
        throw ApiError.conflict(`domain ${body.domain} belongs to account ${holder.username}`, holder.workflowId, [
          { field: 'body.domain', message: 'already taken' },
        ]);
      const workflowId = workflowIds.migrate(body.domain, ulid().toLowerCase());
      // The domain (and its hierarchy), `<account>_<db>` databases and logins, the mailboxes: claimed for this
      // account before the workflow starts, so a migration never takes over another account's names.
      await claimNames(repos, { account: body.account, workflowId, names: migrationNames(body) }, migrationFields);
      const input: MigrateSiteInput = {
        domain: body.domain,
        account: body.account,
        node: nodeId,
        nodeIp: node.ip,
        cutover: body.cutover,
        source: body.source,
      };
      try {
        await startWorkflow(temporal, {
          type: 'migrateSite',
          workflowId,
          args: [input],
          attributes: { account: body.account, domain: body.domain, node: nodeId },
        });
      } catch (err) {
        await repos.names.release({ account: body.account, workflowId }).catch(() => undefined);
        throw err;
      }
      return accepted(reply, workflowId);
    },
  );

  app.get(
    '/api/v1/migrations',
    {
      config: { access: 'admin' },
      schema: { response: { 200: z.object({ migrations: z.array(migrationView) }) } },
    },
    async () => {
      const rows = await repos.migrations.list({});
      return {
        migrations: rows.map((r) => ({
          workflowId: r.workflowId,
          domain: r.domain,
          account: r.account,
          node: r.nodeId,
          sourceHost: r.sourceHost,
          status: r.status,
          filesCopied: r.filesCopied,
          bytesCopied: r.bytesCopied,
          createdAt: new Date(r.createdAt).toISOString(),
        })),
      };
    },
  );

  /** A running migrateSite or 404/409; then the update, whose validator's refusal becomes a 409. */
  const update = async (id: string, name: 'resolve' | 'cutover', args: unknown[]) => {
    const handle = temporal.workflow.getHandle(id);
    let info: WorkflowExecutionDescription;
    try {
      info = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw ApiError.notFound(`migration ${id}`);
      throw err;
    }
    if (info.type !== 'migrateSite') throw ApiError.notFound(`migration ${id}`);
    if (info.status.name !== 'RUNNING')
      throw ApiError.conflict(`migration ${id} is ${info.status.name.toLowerCase()}: no operator action applies`, id);
    try {
      return (await handle.executeUpdate(name, { args: args as [] })) as { action?: string; step: string | null };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw ApiError.conflict((err.cause as Error | undefined)?.message ?? err.message, id);
      if (err instanceof WorkflowNotFoundError) throw ApiError.conflict(`migration ${id} has finished`, id);
      throw err;
    }
  };

  app.post(
    '/api/v1/migrations/:id/resolve',
    {
      config: { access: 'admin' },
      schema: {
        params: workflowIdParam,
        body: resolveBody,
        response: { 200: actionResult, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
      const res = await update(request.params.id, 'resolve', [{ action: request.body.action }]);
      reply.header('x-correlation-id', request.params.id);
      return { workflowId: request.params.id, action: request.body.action, step: res.step ?? null };
    },
  );

  app.post(
    '/api/v1/migrations/:id/cutover',
    {
      config: { access: 'admin' },
      schema: { params: workflowIdParam, response: { 200: actionResult, 404: errorBody, 409: errorBody } },
    },
    async (request, reply) => {
      const res = await update(request.params.id, 'cutover', []);
      reply.header('x-correlation-id', request.params.id);
      return { workflowId: request.params.id, action: 'go', step: res.step ?? null };
    },
  );
};
