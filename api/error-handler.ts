import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { ApiError } from './api-error';

interface FieldError {
  field: string;
  message: string;
}

/**
 * One place maps every error to HTTP. Validation errors name each field (`body.mailboxes.0.local`), so a
 * client and the UI can show the message next to the input. 5xx bodies never carry internals.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const correlationId = (reply.getHeader('x-correlation-id') as string | undefined) ?? undefined;
    if (error instanceof ApiError) {
      if (error.correlationId) reply.header('x-correlation-id', error.correlationId);
      return reply.status(error.statusCode).send({
        error: error.code,
        message: error.message,
        ...(error.details !== undefined ? { details: error.details } : {}),
        ...(error.correlationId ? { correlationId: error.correlationId } : {}),
      });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const context = (error as { validationContext?: string }).validationContext ?? 'body';
      const details: FieldError[] = error.validation.map((issue) => ({
        field: [context, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
        message: issue.message ?? 'invalid',
      }));
      return reply
        .status(400)
        .send({ error: 'bad_request', message: `invalid ${details[0]?.field ?? context}: ${details[0]?.message ?? ''}`.trim(), details });
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
      return reply.status(500).send({ error: 'internal', message: 'internal error', correlationId });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ error: 'internal', message: 'internal error', ...(correlationId ? { correlationId } : {}) });
    }
    // Fastify's own 4xx (bad JSON, body too large, unsupported media type): keep its message, it names the cause.
    return reply.status(status).send({ error: error.code?.toLowerCase() ?? 'bad_request', message: error.message });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}

/** Longest path parameter the router passes on (characters of the raw path, percent escapes included). */
export const MAX_PARAM_LENGTH = 4096;

/**
 * Fastify's `frameworkErrors`: the router refuses a parameter over MAX_PARAM_LENGTH (414) or a path that is not
 * valid percent-encoding (400) before any route runs. Answered in the same `{ error, message }` shape as every
 * other error, without echoing the path.
 */
export function routerRefusal(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.statusCode === 414) {
    reply.status(414).send({ error: 'uri_too_long', message: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` });
    return;
  }
  reply.status(400).send({
    error: 'bad_request',
    message: error.code === 'FST_ERR_BAD_URL' ? 'the path is not valid percent-encoding' : 'invalid request',
  });
}
