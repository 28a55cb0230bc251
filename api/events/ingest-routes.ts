import Router from '@koa/router';
import type pg from 'pg';
import { acceptEvent, batchInputSchema, eventInputSchema, fieldProblems, formatTimestamp, nowMicros, REPORT_INPUT, type AcceptedEvent, type FieldProblem } from '../../core/mod.ts';
import type { Receipt } from '../../store/mod.ts';
import { requireKey, type AuthState } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import { validationFailed } from '../errors.ts';
import type { GroupCommit } from './group-commit.ts';

/** Request body limits (docs/api.md). */
export const SINGLE_BODY_LIMIT = 64 * 1024;
export const BATCH_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * `POST /api/v1/events` and `POST /api/v1/events/batch`: validate, assign ids, hand off durably,
 * answer 202 with a receipt per event.
 */
export function ingestRoutes(pool: pg.Pool, groups: GroupCommit): Router<AuthState> {
  const router = new Router<AuthState>();

  router.post('/api/v1/events', requireKey(pool, 'ingest', { checkAtWrite: true }), async (ctx) => {
    const parsed = eventInputSchema.safeParse(await readJsonBody(ctx, SINGLE_BODY_LIMIT), REPORT_INPUT);
    if (!parsed.success) throw validationFailed(fieldProblems(parsed.error));
    const event = acceptEvent(parsed.data, crypto.randomUUID(), formatTimestamp(nowMicros()));
    ctx.state.timing?.lap('body');
    const [receipt] = await submitTimed(ctx.state, groups, [event]);
    ctx.status = 202;
    ctx.body = receipt;
  });

  // The whole batch is validated first: one bad item rejects it all (422 naming the item), so a
  // client never has to reconcile a partial success.
  router.post('/api/v1/events/batch', requireKey(pool, 'ingest', { checkAtWrite: true }), async (ctx) => {
    const body = batchInputSchema.safeParse(await readJsonBody(ctx, BATCH_BODY_LIMIT), REPORT_INPUT);
    if (!body.success) throw validationFailed(fieldProblems(body.error));
    const receivedAt = formatTimestamp(nowMicros());
    const problems: FieldProblem[] = [];
    const events = body.data.events.map((item, i) => {
      const parsed = eventInputSchema.safeParse(item, REPORT_INPUT);
      if (!parsed.success) { problems.push(...fieldProblems(parsed.error, ['events', i])); return undefined; }
      return acceptEvent(parsed.data, crypto.randomUUID(), receivedAt);
    });
    if (problems.length > 0) throw validationFailed(problems);
    ctx.state.timing?.lap('body');
    ctx.status = 202;
    ctx.body = { events: await submitTimed(ctx.state, groups, events as NonNullable<(typeof events)[number]>[]) };
  });

  return router;
}

/** Hands the events to the group commit, timing the wait for the group (`wait`) and its durable write (`write`). */
async function submitTimed(state: AuthState, groups: GroupCommit, events: AcceptedEvent[]): Promise<Receipt[]> {
  const stamp: { flushedAt?: number } = {};
  const receipts = await groups.submit(state.principal.workspaceId, events, stamp, state.uncheckedKeyId);
  state.timing?.lap('wait', stamp.flushedAt);
  state.timing?.lap('write');
  return receipts;
}
