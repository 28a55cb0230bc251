import { z } from 'zod';
import { EVENT_LIMITS, normalizeTimestamp } from '../../core/mod.ts';
import type { ActionFilter } from '../../store/mod.ts';

/** Documented limits of `GET /api/v1/events` (docs/api/events-query.md). */
export const QUERY_LIMITS = {
  defaultLimit: 25,
  maxLimit: 100,
  /** Stored search text is split into parts that overlap by this less one (migrations/007_search_rows.sql). */
  searchMaxLength: 200,
} as const;

// A stored value is at most this long, so a longer filter value could never match: it is a mistake.
const filterValue = z.string()
  .min(1, 'must not be empty')
  .max(EVENT_LIMITS.idLength, `must be at most ${EVENT_LIMITS.idLength} characters`)
  .refine((s) => s.isWellFormed() && !s.includes('\u0000'), 'must be valid Unicode text without NUL characters');

const timestamp = z.string().max(64).transform((s, ctx) =>
  normalizeTimestamp(s) ?? (ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-03-01T00:00:00Z' }), z.NEVER));

/**
 * `action` is exact, or a prefix ending in one `*` (`document.*`). A `*` anywhere else would
 * look like a wildcard to the caller and silently match nothing, so it is refused.
 */
const action = filterValue.transform((s, ctx): ActionFilter => {
  const star = s.indexOf('*');
  if (star === -1) return { exact: s };
  if (star !== s.length - 1) {
    ctx.addIssue({ code: 'custom', message: "may hold one '*', only at the end (e.g. document.*)" });
    return z.NEVER;
  }
  return { prefix: s.slice(0, -1) };
});

/**
 * Any text, since every search costs at most one pass over the workspace's search rows (see
 * store/event-query.ts). Control characters separate the searched fields, so they are refused.
 */
const search = z.string()
  .min(1, 'must not be empty')
  .max(QUERY_LIMITS.searchMaxLength, `must be at most ${QUERY_LIMITS.searchMaxLength} characters`)
  .refine((s) => s.isWellFormed() && !/\p{Cc}/u.test(s), 'must be valid Unicode text without control characters');

const limit = z.string()
  .regex(/^\d{1,4}$/, `must be an integer from 1 to ${QUERY_LIMITS.maxLimit}`)
  .transform(Number)
  .pipe(z.number().min(1, `must be an integer from 1 to ${QUERY_LIMITS.maxLimit}`).max(QUERY_LIMITS.maxLimit, `must be at most ${QUERY_LIMITS.maxLimit}`));

/**
 * The query string of `GET /api/v1/events`. Unknown parameters are refused (a misspelt filter
 * must not silently widen a query); empty values are refused too, rather than guessed at.
 *
 * ```ts
 * const query = parseQuery(ctx, eventListQuery); // { session_id: 'sess_4kN8pLm', limit: 25 }
 * ```
 */
export const eventListQuery = z.strictObject({
  action: action.optional(),
  actor_id: filterValue.optional(),
  resource: filterValue.optional(),
  resource_id: filterValue.optional(),
  tenant_id: filterValue.optional(),
  session_id: filterValue.optional(),
  target_type: filterValue.optional(),
  target_id: filterValue.optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
  search: search.optional(),
  cursor: z.string().min(1, 'must not be empty').max(512, 'is not a cursor this API issued').optional(),
  limit: limit.default(QUERY_LIMITS.defaultLimit),
}).refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after to', path: ['from'] });

export type EventListQuery = z.infer<typeof eventListQuery>;
