import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { errorBody } from '../../common/api-schemas';
import { ApiError } from '../api-error';

/** Standard base64 with padding, as Temporal's JSON payloads carry bytes (Buffer would decode anything). */
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64');
// Closed objects: Temporal sends exactly these fields, and the published schema says so.
const jsonPayload = z.object({ metadata: z.record(z.string(), base64).default({}), data: base64.default('') }).strict();
// `temporal workflow query --codec-endpoint` sends {} when it has nothing to decode: treat it as no payloads.
const payloadsBody = z.object({ payloads: z.array(jsonPayload).max(1000).default([]) }).strict();

const CODEC_OPS = ['decode', 'encode'] as const;

const fromJson = (p: z.infer<typeof jsonPayload>): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/**
 * The codec endpoint Temporal Web and the `temporal` CLI (`--codec-endpoint … --codec-auth "Bearer <token>"`)
 * call to show encrypted payloads in clear. Admins only: decoding reveals secrets. CORS admits only the
 * configured Temporal Web origin, with credentials, so the browser may send the operator's token.
 */
export const codecPlugin: FastifyPluginAsyncZod<{ codec: PayloadCodec; temporalUiUrl: string }> = async (app, { codec, temporalUiUrl }) => {
  const uiOrigin = new URL(temporalUiUrl).origin;
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/codec/')) return;
    if (request.headers.origin === uiOrigin) {
      reply.header('access-control-allow-origin', uiOrigin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-allow-headers', 'authorization, content-type, x-namespace');
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('vary', 'origin');
    }
  });
  // The CORS preflight of Temporal Web: public (browsers send no credentials on it), for the two operations.
  app.options(
    '/codec/:op',
    {
      config: { access: 'public' },
      schema: { params: z.object({ op: z.enum(CODEC_OPS) }), response: { 204: z.null() } },
    },
    async (_request, reply) => reply.status(204).send(null),
  );

  for (const op of CODEC_OPS) {
    app.post(
      `/codec/${op}`,
      {
        config: { access: 'admin' },
        schema: { body: payloadsBody, response: { 200: z.object({ payloads: z.array(jsonPayload) }), 400: errorBody } },
      },
      async (request) => {
        const payloads = request.body.payloads.map(fromJson);
        let out: Payload[];
        try {
          out = op === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
        } catch (err) {
          // A forged, truncated or foreign-key payload is the caller's input error, never a 500.
          throw new ApiError(400, 'bad_request', `invalid body.payloads: cannot ${op}: ${(err as Error).message.slice(0, 200)}`, [
            { field: 'body.payloads', message: `cannot ${op}` },
          ]);
        }
        return { payloads: out.map(toJson) };
      },
    );
  }
};
