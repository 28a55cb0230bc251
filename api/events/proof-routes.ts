import Router from '@koa/router';
import type pg from 'pg';
import { loadEventProof } from '../anchors/proof.ts';
import { explorerOf, type AnchorApiDeps } from '../anchors/routes.ts';
import { requireKey, type AuthState } from '../auth.ts';
import { isUuid } from '../query.ts';
import { ApiError, notFound } from '../errors.ts';

/**
 * `GET /api/v1/events/{id}/proof` (`read` permission, own workspace only): everything needed to
 * check this one event alone against the chain (docs/integrity.md, "Event proofs"). An event
 * whose day is not anchored yet gets 409 `conflict` saying from when it will be.
 */
export function proofRoutes(pool: pg.Pool, deps: AnchorApiDeps = {}): Router<AuthState> {
  const router = new Router<AuthState>();
  const explorer = explorerOf(deps);

  router.get('/api/v1/events/:id/proof', requireKey(pool, 'read', { overlap: true }), async (ctx) => {
    const id = ctx.params.id!;
    const unknown = () => notFound(`No event with id '${id.slice(0, 64)}' exists in this workspace.`);
    if (!isUuid(id)) throw unknown();
    const result = await loadEventProof(pool, explorer, ctx.state.principal.workspaceId, id.toLowerCase(), deps.scheduleMinute ?? 10);
    if (result.kind === 'not_found') {
      if (result.queued) throw notFound(`Event '${id}' was accepted and is still queued; its proof exists once its day is anchored.`, { status: 'queued' });
      throw unknown();
    }
    if (result.kind === 'not_anchored') {
      throw new ApiError(409, 'conflict',
        `Event '${id}' is not anchored yet: events of ${result.day} (UTC) are anchored once that day is over, from about ${result.anchoredFrom}.`,
        { extra: { status: 'not_anchored', anchored_from: result.anchoredFrom } });
    }
    ctx.body = { data: result.proof };
  });

  return router;
}
