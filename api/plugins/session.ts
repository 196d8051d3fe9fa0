import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clearCookieHeader, setCookieHeader } from '../session-cookie';

const BEARER = /^Bearer (\S+)$/;

/**
 * The codec cookie (api/session-cookie.ts), set by the server so it can be HttpOnly: the console calls
 * `POST /api/v1/session` with its bearer header after an administrator signs in, and `DELETE` when signing out.
 * Customers get none: the codec endpoint is for administrators only.
 */
export const sessionPlugin: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/v1/session',
    {
      config: { access: 'admin' },
      schema: { response: { 204: z.null() } },
    },
    async (request, reply) => {
      // Only a bearer header proves the caller holds the token; the cookie itself never renews the cookie.
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (token) reply.header('set-cookie', setCookieHeader(token, request.protocol === 'https'));
      return reply.status(204).send(null);
    },
  );

  // Public: signing out must work with a token that was just revoked or has expired.
  app.delete(
    '/api/v1/session',
    {
      config: { access: 'public' },
      schema: { response: { 204: z.null() } },
    },
    async (request, reply) =>
      reply
        .status(204)
        .header('set-cookie', clearCookieHeader(request.protocol === 'https'))
        .send(null),
  );
};
