import { Readable } from 'node:stream';
import Router from '@koa/router';
import type pg from 'pg';
import { z } from 'zod';
import type { AnchorChain } from '../../activities/anchoring/chain.ts';
import { anchorsOfRun, findAnchor, findRunByTxHash, listAnchors } from '../../store/mod.ts';
import { requireKey, type AuthState } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import { isUuid, parseQuery } from '../query.ts';
import { presentAnchor, presentAnchorDetail, explorerUrlOf, type ExplorerLookup } from './presenter.ts';
import { bundleEventLines, bundleHeader } from './proof.ts';
import { rateLimitByIp, type RateLimit } from './rate-limit.ts';
import { verifyAnchor } from './verify.ts';

/** What the anchor and proof routes need beyond the pool. */
export interface AnchorApiDeps {
  /** Read-only chain access for `onchain_valid`; without it that answer is null. */
  chain?: AnchorChain;
  publicRateLimit?: RateLimit;
  /** Minutes after midnight UTC at which a day is anchored (to tell when an event will be). */
  scheduleMinute?: number;
}

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
});

const lookupQuery = z.strictObject({
  tx_hash: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits'),
});

/** The opaque list cursor: the period_start of the last anchor of the page. */
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T00:00:00\.000000Z$/.test(text)) throw new ApiError(400, 'bad_request', 'Query parameter cursor is not a cursor from this API.');
  return text;
}

export function explorerOf(deps: AnchorApiDeps | undefined): ExplorerLookup {
  return { chain: deps?.chain?.name, explorerUrl: deps?.chain?.explorerUrl };
}

function anchorId(id: string): string {
  if (!isUuid(id)) throw notFound(`No anchor with id ${id}.`);
  return id.toLowerCase();
}

/**
 * The anchors of the caller's workspace (list, detail, verify, bundle; `read` permission) and
 * the public, unauthenticated, rate-limited lookup and verify, which show only roots, counts,
 * hashes and the transaction (docs/api/anchors.md).
 */
export function anchorRoutes(pool: pg.Pool, deps: AnchorApiDeps = {}): Router<AuthState> {
  const router = new Router<AuthState>();
  const explorer = explorerOf(deps);
  const verifyDeps = { pool, chain: deps.chain, explorer };
  const read = requireKey(pool, 'read', { overlap: true });

  router.get('/api/v1/anchors', read, async (ctx) => {
    const query = parseQuery(ctx, listQuery);
    const before = query.cursor ? decodeCursor(query.cursor) : undefined;
    const page = await listAnchors(pool, ctx.state.principal.workspaceId, query.limit + 1, before);
    const hasMore = page.length > query.limit;
    const items = page.slice(0, query.limit);
    ctx.body = {
      data: items.map((a) => presentAnchor(a, explorer)),
      pagination: { has_more: hasMore, next_cursor: hasMore ? Buffer.from(items.at(-1)!.anchor.period_start).toString('base64url') : null },
    };
  });

  router.get('/api/v1/anchors/:id', read, async (ctx) => {
    const found = await findAnchor(pool, anchorId(ctx.params.id!), ctx.state.principal.workspaceId);
    if (!found) throw notFound(`No anchor with id ${ctx.params.id}.`);
    ctx.body = { data: presentAnchorDetail(found, explorer) };
  });

  router.get('/api/v1/anchors/:id/verify', read, async (ctx) => {
    const found = await findAnchor(pool, anchorId(ctx.params.id!), ctx.state.principal.workspaceId);
    if (!found) throw notFound(`No anchor with id ${ctx.params.id}.`);
    ctx.body = { data: await verifyAnchor(verifyDeps, found) };
  });

  // JSON lines: the header, then one line per event with its proof (docs/integrity.md, "Bundles").
  router.get('/api/v1/anchors/:id/bundle', read, async (ctx) => {
    const found = await findAnchor(pool, anchorId(ctx.params.id!), ctx.state.principal.workspaceId);
    if (!found) throw notFound(`No anchor with id ${ctx.params.id}.`);
    const header = await bundleHeader(pool, explorer, found);
    async function* lines() {
      yield `${JSON.stringify(header)}\n`;
      yield* bundleEventLines(pool, found!);
    }
    ctx.set('Content-Type', 'application/x-ndjson; charset=utf-8');
    ctx.set('Content-Disposition', `attachment; filename="sealtrail-anchor-${found.anchor.period_start.slice(0, 10)}-${found.anchor.id}.jsonl"`);
    ctx.body = Readable.from(lines());
  });

  const limited = rateLimitByIp(deps.publicRateLimit ?? { perMinute: 60, burst: 20 });

  router.get('/api/v1/public/anchors/lookup', limited, async (ctx) => {
    const { tx_hash } = parseQuery(ctx, lookupQuery);
    const run = await findRunByTxHash(pool, tx_hash.toLowerCase());
    if (!run) throw notFound(`No anchor was sent in transaction ${tx_hash}.`);
    const anchors = await anchorsOfRun(pool, run.id);
    ctx.body = {
      data: {
        tx_hash: run.tx_hash, chain: run.chain, chain_id: run.chain_id, block_number: run.block_number, status: run.status,
        explorer_url: explorerUrlOf(run, explorer), period_start: run.period_start, period_end: run.period_end,
        global_root: run.global_root, anchors_count: run.anchors_count,
        anchors: anchors.map((a) => ({ id: a.id, anchor_hash: a.anchor_hash, merkle_root: a.merkle_root, events_count: a.events_count, global_index: a.global_index })),
      },
    };
  });

  router.get('/api/v1/public/anchors/:id/verify', limited, async (ctx) => {
    const found = await findAnchor(pool, anchorId(ctx.params.id!));
    if (!found) throw notFound(`No anchor with id ${ctx.params.id}.`);
    ctx.body = { data: await verifyAnchor(verifyDeps, found) };
  });

  return router;
}
