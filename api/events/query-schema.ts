import { z } from 'zod';
import { EVENT_LIMITS, normalizeTimestamp } from '../../core/mod.ts';
import type { ActionFilter } from '../../store/mod.ts';

/** Documented limits of `GET /api/v1/events` (docs/api/events-query.md). */
export const QUERY_LIMITS = {
  defaultLimit: 25,
  maxLimit: 100,
  searchMaxLength: 200,
  /** The shortest run of letters/digits a search must hold: a trigram index needs three. */
  searchMinRun: 3,
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

// Letters and digits as pg_trgm sees them in this C-locale database: ASCII only.
const TRIGRAM_RUN = new RegExp(`[A-Za-z0-9]{${QUERY_LIMITS.searchMinRun}}`);

/**
 * A search is served by a trigram index, which can only narrow a search holding three letters or
 * digits in a row; anything shorter would read every event of the workspace, so it is refused
 * rather than served slowly. Control characters separate the searched fields, so they are refused.
 */
const search = z.string()
  .max(QUERY_LIMITS.searchMaxLength, `must be at most ${QUERY_LIMITS.searchMaxLength} characters`)
  .refine((s) => s.isWellFormed() && !/\p{Cc}/u.test(s), 'must be valid Unicode text without control characters')
  .refine((s) => TRIGRAM_RUN.test(s), `must contain at least ${QUERY_LIMITS.searchMinRun} consecutive ASCII letters or digits`);

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
