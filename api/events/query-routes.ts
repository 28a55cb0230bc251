import Router from '@koa/router';
import type pg from 'pg';
import { findEvent, isQueued, queryEvents, type EventFilter } from '../../store/mod.ts';
import { requireKey, type AuthState } from '../auth.ts';
import { notFound } from '../errors.ts';
import { isUuid, parseQuery } from '../query.ts';
import { decodeCursor, queryFingerprint } from './cursor.ts';
import { presentEvent, presentPage } from './presenter.ts';
import { eventListQuery } from './query-schema.ts';
import type { ReadGate } from './read-gate.ts';

/**
 * `GET /api/v1/events` (filtered pages in chain order, with opaque cursors and a total) and
 * `GET /api/v1/events/{id}`. Both need a key with the `read` permission, and both only ever look
 * inside the key's workspace. A key seen valid before is checked in the statement that reads (the
 * count, or the event), so a read costs no key lookup of its own. A list read goes through
 * `gate`, so that no workspace can hold every connection. Behaviour and limits:
 * docs/api/events-query.md.
 */
export function queryRoutes(pool: pg.Pool, gate: ReadGate): Router<AuthState> {
  const router = new Router<AuthState>();

  router.get('/api/v1/events', requireKey(pool, 'read', { checkInRead: true }), async (ctx) => {
    const { cursor, limit, ...filter } = parseQuery(ctx, eventListQuery);
    const workspaceId = ctx.state.principal.workspaceId;
    const fingerprint = queryFingerprint(workspaceId, filter satisfies EventFilter);
    const position = cursor === undefined ? undefined : decodeCursor(cursor, fingerprint);
    const page = await gate.run(workspaceId, () => queryEvents(pool, { workspaceId, filter, limit, afterSeq: position?.afterSeq, counted: position?.counted, keyId: ctx.state.uncheckedKeyId }));
    ctx.state.keyValid = page.keyValid;
    ctx.body = presentPage(page, fingerprint);
  });

  // An id the API accepted (202) is in the inbox until the worker chains it: that answer differs
  // from "never existed", so a client polling right after ingesting can tell the two apart.
  router.get('/api/v1/events/:id', requireKey(pool, 'read', { checkInRead: true }), async (ctx) => {
    const id = ctx.params.id!;
    const workspaceId = ctx.state.principal.workspaceId;
    const unknown = () => notFound(`No event with id '${id.slice(0, 64)}' exists in this workspace.`);
    if (!isUuid(id)) throw unknown();
    let { event, keyValid } = await findEvent(pool, workspaceId, id, ctx.state.uncheckedKeyId);
    if (!event) {
      if (await isQueued(pool, workspaceId, id)) {
        throw notFound(`Event '${id}' was accepted and is still queued; it will be readable once it is on the chain (usually within a second).`, { status: 'queued' });
      }
      // The append may have committed between the two reads above: look once more.
      ({ event, keyValid } = await findEvent(pool, workspaceId, id, ctx.state.uncheckedKeyId));
      if (!event) throw unknown();
    }
    ctx.state.keyValid = keyValid;
    ctx.body = { data: presentEvent(event) };
  });

  return router;
}
