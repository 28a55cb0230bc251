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
  // Without a prototype, `__proto__` is a parameter like any other (and refused as unknown).
  const raw: Record<string, string> = Object.create(null);
  let replaced = false;
  for (const [key, value] of Object.entries(ctx.query)) {
    if (Array.isArray(value)) throw new ApiError(400, 'bad_request', `Query parameter '${key}' is given more than once.`);
    if (value !== undefined) raw[key] = value;
    replaced ||= key.includes('\uFFFD') || value?.includes('\uFFFD') === true;
  }
  if (replaced) refuseInvalidUtf8(ctx.querystring);
  const parsed = schema.safeParse(raw, REPORT_INPUT);
  if (!parsed.success) {
    const details = fieldProblems(parsed.error);
    throw new ApiError(400, 'bad_request', `Query parameter ${details[0]!.path} ${details[0]!.message}`, { details });
  }
  return parsed.data;
}

/**
 * The query string decoder turns percent-encoded bytes that are not UTF-8 into U+FFFD, which would
 * then be matched as if the client had sent it: such a parameter is refused instead.
 */
function refuseInvalidUtf8(querystring: string): void {
  const decoded = (text: string) => {
    try {
      return decodeURIComponent(text.replaceAll('+', ' '));
    } catch {
      return undefined;
    }
  };
  for (const part of querystring.split('&')) {
    const cut = part.indexOf('=');
    const [name, value] = cut === -1 ? [part, ''] : [part.slice(0, cut), part.slice(cut + 1)];
    const path = decoded(name);
    if (path !== undefined && decoded(value) !== undefined) continue;
    const message = 'is not valid percent-encoded UTF-8';
    throw new ApiError(400, 'bad_request', `Query parameter ${path ?? '(name)'} ${message}`, { details: [{ path: path ?? '(name)', message }] });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True for a uuid-shaped path id. Checked before querying: PostgreSQL answers a malformed uuid
 * with an error, where the API owes a plain 404.
 */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
