/**
 * The daily schedule: created idempotently when the worker starts, it anchors every closed day
 * with events since the last anchored one, in order, skipping days without events and today.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureAnchorSchedule } from '../worker/mod.ts';
import { anchorScheduleId } from '../workflows/ids.ts';
import { appendDay, sentTransactions } from './anchor-fixtures.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext({ anchoring: {} }); });
afterAll(async () => {
  await ctx.temporal.schedule.getHandle(anchorScheduleId(ctx.taskQueue)).delete().catch(() => {});
  await ctx.close();
});

describe('the daily anchoring schedule', () => {
  it('catches up on every closed day with events, oldest first, and leaves today and empty days alone', async () => {
    const a = await ctx.workspace(['read']);
    const b = await ctx.workspace(['read']);
    await appendDay(ctx.pool, a.workspaceId, '2026-05-01', 7);
    // 2026-05-02: no events anywhere.
    await appendDay(ctx.pool, a.workspaceId, '2026-05-03', 3);
    await appendDay(ctx.pool, b.workspaceId, '2026-05-03', 4);
    await appendDay(ctx.pool, a.workspaceId, new Date().toISOString().slice(0, 10), 2);

    await ensureAnchorSchedule(ctx.temporal, ctx.taskQueue, 10);
    await ensureAnchorSchedule(ctx.temporal, ctx.taskQueue, 10);

    const runs = await eventually(async () => {
      const { rows } = await ctx.pool.query<{ day: string; status: string; anchors_count: number }>(
        `SELECT to_char(period_start, 'YYYY-MM-DD') AS day, status, anchors_count FROM anchor_runs ORDER BY period_start`);
      return rows.length === 2 && rows.every((r) => r.status === 'confirmed') ? rows : undefined;
    }, 60_000, 'both closed days to be anchored');
    expect(runs).toEqual([
      { day: '2026-05-01', status: 'confirmed', anchors_count: 1 },
      { day: '2026-05-03', status: 'confirmed', anchors_count: 2 },
    ]);
    expect(await sentTransactions(ctx.chain!.client, ctx.chain!.account!.address)).toBe(2);

    const [latest, first] = (await ctx.api(a.key, '/api/v1/anchors')).body.data;
    const firstDetail = (await ctx.api(a.key, `/api/v1/anchors/${first.id}`)).body.data;
    expect(latest.previous_anchor_hash).toBe(firstDetail.anchor_hash);

    const description = await ctx.temporal.schedule.getHandle(anchorScheduleId(ctx.taskQueue)).describe();
    expect(description.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 0, end: 0, step: 1 }], minute: [{ start: 10, end: 10, step: 1 }] })]);
  }, 90_000);
});
