import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { domainSchema } from '../../common/names';
import { errorBody, workflowStarted } from '../../common/api-schemas';
import { nextCursor, pageQuery, pageRequest, toPage } from '../../common/paging';
import { workflowIds } from '../../common/workflow-ids';
import { CERTIFICATE_ACCOUNT_STATUSES, type AccountStatus } from '../../db/schema/accounts';
import { ApiError } from '../api-error';
import { accountScope } from '../auth';
import type { AppDeps } from '../deps';
import { accepted, startWorkflow } from '../start-workflow';

const DAY_MS = 86_400_000;

const certificateView = z.object({
  domain: z.string(),
  account: z.string().nullable(),
  serial: z.string().nullable(),
  issuer: z.string().nullable(),
  notBefore: z.string().nullable(),
  notAfter: z.string().nullable(),
  /** Whole days until notAfter (negative once expired); null before the first issuance. */
  daysLeft: z.number().nullable(),
  lastOutcome: z.enum(['issued', 'renewed', 'failed', 'rolled_back']).nullable(),
  /** The reason of the last failed or rolled-back attempt (the CA's problem detail when it refused). */
  lastError: z.string().nullable(),
  lastWorkflowId: z.string().nullable(),
  lastRenewedAt: z.string().nullable(),
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** Certificates: list with expiry and last renewal outcome; renew one now (a renewCertificate workflow). */
export const certificatesPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const { temporal, repos } = deps;

  app.get(
    '/api/v1/certificates',
    {
      schema: {
        querystring: pageQuery,
        response: { 200: z.object({ certificates: z.array(certificateView), next: nextCursor }), 400: errorBody },
      },
    },
    async (request) => {
      const scope = accountScope(request);
      const req = pageRequest(request.query);
      const { items, next } = toPage(await repos.certificates.page(scope ? { account: scope } : {}, req), req, (r) => r.domain);
      const now = Date.now();
      return {
        certificates: items.map((r) => ({
          domain: r.domain,
          account: r.username,
          serial: r.serial,
          issuer: r.issuer,
          notBefore: iso(r.notBefore),
          notAfter: iso(r.notAfter),
          daysLeft: r.notAfter ? Math.floor((new Date(r.notAfter).getTime() - now) / DAY_MS) : null,
          lastOutcome: r.lastOutcome,
          lastError: r.lastError,
          lastWorkflowId: r.lastWorkflowId,
          lastRenewedAt: iso(r.lastRenewedAt),
        })),
        next,
      };
    },
  );

  app.post(
    '/api/v1/certificates/:domain/renew',
    {
      schema: {
        params: z.object({ domain: domainSchema }),
        response: { 202: workflowStarted, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
      const { domain } = request.params;
      const scope = accountScope(request);
      const owner = await repos.certificates.owner(domain);
      // A customer asking about someone else's domain gets the same answer as for an unknown one.
      if (!owner || (scope !== undefined && owner.username !== scope)) throw ApiError.notFound(`domain ${domain}`);
      if (!CERTIFICATE_ACCOUNT_STATUSES.includes(owner.status as AccountStatus)) {
        throw ApiError.conflict(`account ${owner.username} is ${owner.status}: no certificate renewal for ${domain}`, undefined, {
          field: 'domain',
          status: owner.status,
        });
      }
      // One certificate operation per domain: a request while one runs joins it (same ID back), never a second
      // renewal beside it (finding 5 of issue 11).
      const workflowId = workflowIds.certificate(domain);
      await startWorkflow(temporal, {
        type: 'renewCertificate',
        workflowId,
        joinRunning: true,
        args: [{ domain }],
        attributes: { account: owner.username, domain, node: owner.nodeId },
      });
      return accepted(reply, workflowId);
    },
  );
};
