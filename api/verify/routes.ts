import Router from '@koa/router';
import type pg from 'pg';
import { z } from 'zod';
import { ChainVerifier, formatTimestamp, normalizeTimestamp, parseTimestamp, type ChainBreak } from '../../core/mod.ts';
import { chainHead, eventsAfter, seqBefore } from '../../store/mod.ts';
import { requireKey, type AuthState } from '../auth.ts';
import type { ReadGate } from '../events/read-gate.ts';
import { parseQuery } from '../query.ts';

const timestamp = z.string().transform((s, ctx) => normalizeTimestamp(s) ?? (ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 timestamp with a time zone' }), z.NEVER));

const verifyQuery = z.strictObject({
  from: timestamp.optional(),
  to: timestamp.optional(),
  limit: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
}).refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after to', path: ['from'] });

const PAGE = 2000;

/**
 * `GET /api/v1/verify`: recomputes every hash in the range and checks every link. When the range
 * runs to the end of the chain, the last event is also checked against the chain head, so
 * events cut off the end are reported too. A long walk holds a connection throughout: it takes
 * one of the workspace's read slots (`gate`), as event lists do.
 */
export function verifyRoutes(pool: pg.Pool, gate: ReadGate): Router<AuthState> {
  const router = new Router<AuthState>();
  router.get('/api/v1/verify', requireKey(pool, 'read', { overlap: true }), async (ctx) => {
    const query = parseQuery(ctx, verifyQuery);
    const workspaceId = ctx.state.principal.workspaceId;
    ctx.body = { data: await gate.run(workspaceId, () => verifyRange(pool, workspaceId, query)) };
  });
  return router;
}

/** Walks the workspace's chain over `query`'s range, page by page, and reports what it found. */
async function verifyRange(pool: pg.Pool, workspaceId: string, query: z.infer<typeof verifyQuery>) {
  const start = query.from ? await seqBefore(pool, workspaceId, query.from) : { seq: 0, eventHash: null };
  const verifier = new ChainVerifier(start.eventHash);
  const breaks: ChainBreak[] = [];
  let afterSeq = start.seq;
  let last: { id: string; seq: number; event_hash: string; created_at: string } | undefined;
  let exhausted = false;
  while (verifier.eventsChecked < query.limit) {
    const page = await eventsAfter(pool, workspaceId, afterSeq, Math.min(PAGE, query.limit - verifier.eventsChecked), query.to);
    for (const event of page) breaks.push(...verifier.push(event));
    if (page.length > 0) { last = page.at(-1)!; afterSeq = last.seq; }
    if (page.length < PAGE && verifier.eventsChecked < query.limit) { exhausted = true; break; }
  }
  if (exhausted && !query.to) {
    const head = await chainHead(pool, workspaceId);
    const lastHash = last?.event_hash ?? start.eventHash;
    if (head.eventHash !== lastHash) {
      breaks.push({ event_id: last?.id ?? null, type: 'chain_break', expected_hash: head.eventHash, actual_hash: lastHash });
    }
  }
  return {
    valid: breaks.length === 0,
    events_checked: verifier.eventsChecked,
    breaks,
    // The limit stopped the walk: where to continue.
    ...(exhausted || !last ? {} : { has_more: true, next_from: formatTimestamp(parseTimestamp(last.created_at)! + 1n) }),
  };
}
