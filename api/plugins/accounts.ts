import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ulid } from 'ulid';
import { z } from 'zod';
import { provisionAccountBody, usernameParam, type ProvisionAccountInput } from '../../common/account-input';
import { errorBody, workflowStarted } from '../../common/api-schemas';
import { nextCursor, pageQuery, pageRequest, toPage } from '../../common/paging';
import { workflowIds } from '../../common/workflow-ids';
import type { WorkflowType } from '../../common/workflow-types';
import { ApiError } from '../api-error';
import { accountScope } from '../auth';
import type { AppDeps } from '../deps';
import { reserveAndStartProvision } from '../provision-start';
import { accepted, startWorkflow } from '../start-workflow';
import { targetNode } from '../target-node';

const accountView = z.object({
  username: z.string(),
  domain: z.string(),
  node: z.string(),
  status: z.string(),
  workflowId: z.string(),
  createdAt: z.string(),
});

const accountDetail = accountView.extend({
  mailboxes: z.array(z.string()),
  ftpUsers: z.array(z.string()),
  databases: z.array(z.object({ name: z.string(), user: z.string() })),
  domains: z.array(z.string()),
});

/** Account lifecycle: provision (POST), list, show, suspend, unsuspend, deprovision (DELETE). */
export const accountsPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const { temporal, repos } = deps;

  app.post(
    '/api/v1/accounts',
    {
      config: { access: 'admin' },
      schema: { body: provisionAccountBody, response: { 202: workflowStarted, 400: errorBody, 409: errorBody } },
    },
    async (request, reply) => {
      const body = request.body;
      const node = await targetNode(deps, body.node);
      const nodeId = node.id;
      const workflowId = workflowIds.provision(body.username, ulid().toLowerCase());
      const dbUser = body.database ? (body.database.user ?? body.database.name) : undefined;
      const input: ProvisionAccountInput = {
        username: body.username,
        domain: body.domain,
        node: nodeId,
        nodeIp: node.ip,
        mailboxes: body.mailboxes,
        ...(body.ftp ? { ftp: body.ftp } : {}),
        ...(body.database && dbUser ? { database: { name: body.database.name, user: dbUser, password: body.database.password } } : {}),
        tls: body.tls,
      };
      await reserveAndStartProvision(deps, input, workflowId);
      return accepted(reply, workflowId);
    },
  );

  app.get(
    '/api/v1/accounts',
    {
      schema: { querystring: pageQuery, response: { 200: z.object({ accounts: z.array(accountView), next: nextCursor }), 400: errorBody } },
    },
    async (request) => {
      const scope = accountScope(request);
      const req = pageRequest(request.query);
      const { items, next } = toPage(await repos.accounts.page(scope ? { account: scope } : {}, req), req, (r) => r.username);
      return {
        accounts: items.map((r) => ({
          username: r.username,
          domain: r.domain,
          node: r.nodeId,
          status: r.status,
          workflowId: r.workflowId,
          createdAt: new Date(r.createdAt).toISOString(),
        })),
        next,
      };
    },
  );

  const findAccount = async (request: { principal: unknown }, username: string) => {
    const scope = accountScope(request as never);
    const res = await repos.accounts.getResources(username);
    if (!res || (scope !== undefined && scope !== username)) throw ApiError.notFound(`account ${username}`);
    return res;
  };

  app.get(
    '/api/v1/accounts/:username',
    {
      schema: { params: usernameParam, response: { 200: accountDetail, 400: errorBody, 404: errorBody } },
    },
    async (request) => {
      const res = await findAccount(request, request.params.username);
      const a = res.account;
      return {
        username: a.username,
        domain: a.domain,
        node: a.nodeId,
        status: a.status,
        workflowId: a.workflowId,
        createdAt: new Date(a.createdAt).toISOString(),
        mailboxes: res.mailboxes.map((m) => m.address),
        ftpUsers: res.ftpUsers.map((f) => f.username),
        databases: res.databases.map((d) => ({ name: d.name, user: d.dbUser })),
        domains: res.domains.map((d) => d.name),
      };
    },
  );

  const lifecycle =
    (action: 'suspend' | 'unsuspend' | 'deprovision', type: WorkflowType, allowed: string[]) =>
    async (
      request: { params: { username: string }; principal: unknown },
      reply: { header: (k: string, v: string) => unknown; status: (n: number) => { send: (b: unknown) => unknown } },
    ) => {
      const res = await findAccount(request, request.params.username);
      const a = res.account;
      if (!allowed.includes(a.status)) throw ApiError.conflict(`account ${a.username} is ${a.status}: cannot ${action}`, a.workflowId);
      const workflowId = workflowIds[action](a.username, ulid().toLowerCase());
      await startWorkflow(temporal, {
        type,
        workflowId,
        args: [{ username: a.username }],
        attributes: { account: a.username, domain: a.domain, node: a.nodeId },
      });
      // The workflow revokes the account's tokens; this process must not serve them from its cache meanwhile.
      if (action === 'deprovision') deps.verifyToken.forgetAccount?.(a.username);
      return accepted(reply as never, workflowId);
    };

  const lifecycleSchema = { params: usernameParam, response: { 202: workflowStarted, 400: errorBody, 404: errorBody, 409: errorBody } };
  app.post(
    '/api/v1/accounts/:username/suspend',
    { config: { access: 'admin' }, schema: lifecycleSchema },
    lifecycle('suspend', 'suspendAccount', ['active']) as never,
  );
  app.post(
    '/api/v1/accounts/:username/unsuspend',
    { config: { access: 'admin' }, schema: lifecycleSchema },
    lifecycle('unsuspend', 'unsuspendAccount', ['suspended']) as never,
  );
  app.delete(
    '/api/v1/accounts/:username',
    { config: { access: 'admin' }, schema: lifecycleSchema },
    lifecycle('deprovision', 'deprovisionAccount', ['active', 'suspended', 'failed', 'deprovisioning']) as never,
  );
};
