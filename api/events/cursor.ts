import { hash } from 'node:crypto';
import { canonicalJson } from '../../core/mod.ts';
import type { EventFilter, MatchCount } from '../../store/mod.ts';
import { ApiError } from '../errors.ts';

/**
 * Pagination cursors of `GET /api/v1/events`: opaque to clients, URL-safe base64 of
 * `{"v":1,"after":<seq>,"q":<fingerprint>,"t":<total>,"m":<seq>}`.
 *
 * `after` is the chain position of the last event of the page, so the next page starts exactly
 * after it whatever arrives meanwhile (a new event always gets a higher position than every
 * visible one). `q` binds the cursor to the workspace and the normalised filters it was issued
 * for: a cursor replayed with other filters or by another workspace's key would silently page
 * through something else, so it is refused instead. `t` and `m` carry the total counted through
 * position `m`, so a later page only counts what arrived since. None of it is a secret or an
 * authorisation: the query is always confined to the caller's workspace, and a forged cursor can
 * only mislead its forger.
 */
export interface PageCursor { afterSeq: number; counted: MatchCount }

const VERSION = 1;

/** Identifies one query: the workspace plus its normalised filters (the page size is not part of it). */
export function queryFingerprint(workspaceId: string, filter: EventFilter): string {
  return hash('sha256', canonicalJson({ workspace: workspaceId, filter }), 'base64url').slice(0, 22);
}

/** The cursor that continues `fingerprint`'s query after `cursor.afterSeq`. */
export function encodeCursor(cursor: PageCursor, fingerprint: string): string {
  const payload = { v: VERSION, after: cursor.afterSeq, q: fingerprint, t: cursor.counted.total, m: cursor.counted.throughSeq };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

function badCursor(message: string): ApiError {
  return new ApiError(400, 'bad_request', `Query parameter cursor ${message}`, { details: [{ path: 'cursor', message }] });
}

const isPosition = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Reads a cursor of `fingerprint`'s query. Throws 400 `bad_request` for anything this API did not
 * issue, and for a cursor issued for another query or workspace.
 */
export function decodeCursor(cursor: string, fingerprint: string): PageCursor {
  const malformed = () => badCursor('is malformed; pass next_cursor from the previous response unchanged');
  let payload: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (payload === null || typeof payload !== 'object') throw malformed();
  const { v, after, q, t, m } = payload as Record<string, unknown>;
  if (v !== VERSION || typeof q !== 'string' || !isPosition(after) || !isPosition(t) || !isPosition(m)) throw malformed();
  if (q !== fingerprint) {
    throw badCursor('was issued for a different query (other filters or another workspace); repeat the original filters, or start again without a cursor');
  }
  return { afterSeq: after, counted: { total: t, throughSeq: m } };
}
