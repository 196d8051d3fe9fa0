import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody } from '../../common/api-schemas';
import { tokenCreateInput } from '../../common/token-input';
import { AccountClosingError, AccountNotFoundError } from '../../db/repositories';
import { ApiError } from '../api-error';
import type { AppDeps } from '../deps';

const tokenView = z.object({
  id: z.number(),
  role: z.enum(['admin', 'customer']),
  account: z.string().nullable(),
  label: z.string().nullable(),
  fingerprint: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

/**
 * A token id in the path: digits only, as the schema publishes it (a coerced number took ` 1`, `1e0`, `0x1`).
 * At most 15 digits, so every id is a safe integer.
 */
const tokenId = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, 'a token id (a positive whole number)')
  .transform(Number);

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** Token management for administrators (the CLI does the same through `bin/npanel token`). Never shows a hash. */
export const tokensPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const tokens = deps.repos.tokens;

  // Who the caller is: the UI shows the role and hides what the token may not do (the API refuses it anyway).
  app.get(
    '/api/v1/me',
    {
      schema: { response: { 200: z.object({ role: z.enum(['admin', 'customer']), account: z.string().nullable() }) } },
    },
    async (request) => ({ role: request.principal!.role, account: request.principal!.account }),
  );

  app.get(
    '/api/v1/tokens',
    {
      config: { access: 'admin' },
      schema: { response: { 200: z.object({ tokens: z.array(tokenView) }) } },
    },
    async () => ({
      tokens: (await tokens.list()).map((t) => ({
        ...t,
        createdAt: iso(t.createdAt)!,
        lastUsedAt: iso(t.lastUsedAt),
        revokedAt: iso(t.revokedAt),
      })),
    }),
  );

  app.post(
    '/api/v1/tokens',
    {
      config: { access: 'admin' },
      schema: {
        body: tokenCreateInput,
        response: { 201: z.object({ id: z.number(), token: z.string() }), 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
      const created = await tokens.create(request.body).catch((err: unknown) => {
        // A customer token only for an account that exists and is not being removed.
        if (err instanceof AccountNotFoundError)
          throw new ApiError(404, 'not_found', `${err.message}: a customer token needs an existing account`, [
            { field: 'body.account', message: 'no such account' },
          ]);
        if (err instanceof AccountClosingError)
          throw ApiError.conflict(err.message, undefined, [{ field: 'body.account', message: err.message }]);
        throw err;
      });
      request.log.info({ tokenId: created.id, role: request.body.role, account: request.body.account ?? null }, 'token created');
      return reply.status(201).send(created);
    },
  );

  app.delete(
    '/api/v1/tokens/:id',
    {
      config: { access: 'admin' },
      schema: { params: z.object({ id: tokenId }), response: { 204: z.null(), 404: errorBody } },
    },
    async (request, reply) => {
      if (!(await tokens.revoke(request.params.id))) throw ApiError.notFound(`live token ${request.params.id}`);
      deps.verifyToken.forgetAll?.();
      request.log.info({ tokenId: request.params.id }, 'token revoked');
      return reply.status(204).send(null);
    },
  );
};
