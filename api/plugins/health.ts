import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps';

const checkResult = z.object({ status: z.enum(['ok', 'failing']), latencyMs: z.number(), error: z.string().optional() });

/** Liveness (`/health`: the process answers) and readiness (`/health/ready`: what it depends on answers). */
export const healthPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/health', { config: { access: 'public' }, schema: { response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/health/ready', {
    config: { access: 'public' },
    schema: { response: { 200: z.object({ status: z.string(), checks: z.record(z.string(), checkResult) }), 503: z.object({ status: z.string(), checks: z.record(z.string(), checkResult) }) } },
  }, async (_request, reply) => {
    const entries = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        const started = performance.now();
        try {
          await Promise.race([check(), new Promise((_, r) => setTimeout(() => r(new Error('timed out after 3 s')), 3000).unref())]);
          return [name, { status: 'ok' as const, latencyMs: Math.round(performance.now() - started) }] as const;
        } catch (err) {
          return [name, { status: 'failing' as const, latencyMs: Math.round(performance.now() - started), error: (err as Error).message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const failing = entries.filter(([, r]) => r.status === 'failing').map(([n]) => n);
    const body = { status: failing.length ? `failing: ${failing.join(', ')}` : 'ok', checks };
    return reply.status(failing.length ? 503 : 200).send(body);
  });
};
