import Fastify, { type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { authPlugin } from './auth';
import type { AppDeps } from './deps';
import { registerErrorHandler } from './error-handler';
import { healthPlugin } from './plugins/health';
import { workflowsPlugin } from './plugins/workflows';
import { accountsPlugin } from './plugins/accounts';
import { codecPlugin } from './plugins/codec';

/**
 * Builds the Fastify app without listening, so tests drive it with `inject`. Plugins in order: error
 * handling, auth (before any route), then one plugin per resource.
 */
export async function buildApp(deps: AppDeps, options: FastifyServerOptions = {}) {
  const app = Fastify({
    bodyLimit: 256 * 1024,
    // Our own request IDs are the workflow IDs; Fastify's are only for lines without a workflow.
    requestIdHeader: false,
    ...options,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  await app.register(authPlugin, { verify: deps.verifyToken });
  await app.register(healthPlugin, { deps });
  await app.register(workflowsPlugin, { deps });
  await app.register(accountsPlugin, { deps });
  await app.register(codecPlugin, { codec: deps.codec, temporalUiUrl: deps.temporalUiUrl });
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
