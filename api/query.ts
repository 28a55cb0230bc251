import type { Context } from 'koa';
import { z } from 'zod';
import { fieldProblems, REPORT_INPUT } from '../core/mod.ts';
import { ApiError } from './errors.ts';

/**
 * Parses the query string with `schema`. Query problems are the caller's bad request (400), with
 * the same `details` list as a body's validation errors; unknown parameters are rejected too, so a
 * misspelt filter never silently widens a query.
 */
export function parseQuery<T extends z.ZodType>(ctx: Context, schema: T): z.infer<T> {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(ctx.query)) {
    if (Array.isArray(value)) throw new ApiError(400, 'bad_request', `Query parameter '${key}' is given more than once.`);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = schema.safeParse(raw, REPORT_INPUT);
  if (!parsed.success) {
    const details = fieldProblems(parsed.error);
    throw new ApiError(400, 'bad_request', `Query parameter ${details[0]!.path} ${details[0]!.message}`, { details });
  }
  return parsed.data;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True for a uuid-shaped path id. Checked before querying: PostgreSQL answers a malformed uuid
 * with an error, where the API owes a plain 404.
 */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
