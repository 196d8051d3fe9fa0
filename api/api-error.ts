/**
 * The one error the API layer throws on purpose. The central error handler turns it into
 * `{ error, message, details?, correlationId? }` with its status code. Domain code never throws it.
 */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly correlationId?: string,
  ) {
    super(message);
  }

  static notFound(what: string): ApiError {
    return new ApiError(404, 'not_found', `${what} not found`);
  }

  static conflict(message: string, correlationId?: string, details?: unknown): ApiError {
    return new ApiError(409, 'conflict', message, details, correlationId);
  }

  static forbidden(message = 'this token may not do that'): ApiError {
    return new ApiError(403, 'forbidden', message);
  }
}
