import Fastify, { type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { authPlugin } from './auth';
import type { AppDeps } from './deps';
import { MAX_PARAM_LENGTH, registerErrorHandler, routerRefusal } from './error-handler';
import { healthPlugin } from './plugins/health';
import { metricsPlugin } from './plugins/metrics';
import { workflowsPlugin } from './plugins/workflows';
import { accountsPlugin } from './plugins/accounts';
import { migrationsPlugin } from './plugins/migrations';
import { certificatesPlugin } from './plugins/certificates';
import { codecPlugin } from './plugins/codec';
import { securityPlugin } from './plugins/security';
import { docsPlugin } from './plugins/docs';
import { eventsPlugin } from './plugins/events';
import { retryPlugin } from './plugins/retry';
import { tokensPlugin } from './plugins/tokens';
import { webPlugin } from './plugins/web';
import { sessionPlugin } from './plugins/session';
import { csrfPlugin } from './csrf';

/**
 * Builds the Fastify app without listening, so tests drive it with `inject`. Plugins in order: error
 * handling, auth (before any route), then one plugin per resource.
 */
export async function buildApp(deps: AppDeps, options: FastifyServerOptions = {}) {
  const app = Fastify({
    bodyLimit: 256 * 1024,
    // Our own request IDs are the workflow IDs; Fastify's are only for lines without a workflow.
    requestIdHeader: false,
    // nginx on the same host proxies every port to the API: trust its X-Forwarded-For (it overwrites the client's).
    trustProxy: ['127.0.0.1', '::1'],
    // Longer than any path parameter a schema admits (a 300-character IDN domain, percent-encoded), so an
    // over-long one reaches validation and gets a 400 naming it; only a path beyond this is a 414.
    maxParamLength: MAX_PARAM_LENGTH,
    // The router's own refusals (414, a path that is not valid percent-encoding) in the API's error shape.
    frameworkErrors: routerRefusal,
    ...options,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  // First: its onResponse hook must see every route, including 404s and auth refusals.
  await app.register(metricsPlugin, { deps });
  await app.register(securityPlugin);
  // Before auth: a forged cross-site request is refused before its cookie is even looked up.
  await app.register(csrfPlugin, { publicOrigin: deps.publicUrl, codecOrigin: deps.temporalUiUrl });
  await app.register(authPlugin, { verify: deps.verifyToken });
  await app.register(docsPlugin);
  await app.register(healthPlugin, { deps });
  await app.register(workflowsPlugin, { deps });
  await app.register(accountsPlugin, { deps });
  await app.register(migrationsPlugin, { deps });
  await app.register(certificatesPlugin, { deps });
  await app.register(codecPlugin, { codec: deps.codec, temporalUiUrl: deps.temporalUiUrl });
  await app.register(eventsPlugin, { deps });
  await app.register(retryPlugin, { deps });
  await app.register(tokensPlugin, { deps });
  await app.register(sessionPlugin);
  await app.register(webPlugin, {});
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
