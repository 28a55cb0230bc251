import type { Middleware } from 'koa';
import type { FieldProblem } from '../core/mod.ts';
import type { Logger } from '../log/mod.ts';

/**
 * An error with the contract's body: `{ error, message, details? }`. Handlers throw these; the
 * error middleware renders them.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: FieldProblem[];
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(status: number, code: string, message: string, options: { details?: FieldProblem[]; extra?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.extra = options.extra;
    this.headers = options.headers;
  }
}

export const badRequest = (message: string) => new ApiError(400, 'bad_request', message);
export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'Invalid or missing API key.');
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (message: string, extra?: Record<string, unknown>) => new ApiError(404, 'not_found', message, { extra });
export const payloadTooLarge = (limit: number) => new ApiError(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`);
export const unavailable = (message: string) => new ApiError(503, 'unavailable', message);

/** 422 whose message names the first failing field; `details` lists them all. */
export function validationFailed(details: FieldProblem[]): ApiError {
  const first = details[0]!;
  return new ApiError(422, 'validation_failed', `${first.path} ${first.message}`, { details });
}

/** PostgreSQL unreachable, shutting down, or out of resources: the request may be retried. */
function isDatabaseOutage(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code) || /^(08|53|57P)/.test(code))
    || (error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/.test(error.message));
}

/** Renders every error in the contract's format; an unexpected one is logged and becomes a 500. */
export function errorHandler(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined) {
        // What no handler answered: no route, or a route without this method (the routers'
        // allowedMethods set the status and the Allow header, which stays).
        if (ctx.status === 404) throw new ApiError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
        if (ctx.status === 405) throw new ApiError(405, 'method_not_allowed', `${ctx.path} does not take ${ctx.method}; it takes ${ctx.response.get('Allow')}.`);
        if (ctx.status === 501) throw new ApiError(501, 'not_implemented', `This API does not implement the method ${ctx.method}.`);
      }
    } catch (error) {
      let apiError: ApiError;
      if (error instanceof ApiError) apiError = error;
      else if (isDatabaseOutage(error)) {
        log.error('database unavailable', { method: ctx.method, path: ctx.path, error });
        apiError = unavailable('The database is unavailable; nothing was changed. Retry the request.');
      } else if ((error as { status?: number; expose?: boolean }).expose && (error as { status?: number }).status! < 500) {
        apiError = new ApiError((error as { status: number }).status, 'bad_request', (error as Error).message);
      } else {
        log.error('request failed', { method: ctx.method, path: ctx.path, error });
        apiError = new ApiError(500, 'internal', 'An unexpected error occurred; it has been logged.');
      }
      ctx.status = apiError.status;
      ctx.body = { error: apiError.code, message: apiError.message, ...apiError.extra, ...(apiError.details ? { details: apiError.details } : {}) };
      for (const [name, value] of Object.entries(apiError.headers ?? {})) ctx.set(name, value);
    }
  };
}
