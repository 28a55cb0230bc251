import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendBatchesToChain } from '../activities/append.ts';
import { WorkflowStarter } from '../api/events/workflow-starter.ts';
import { acceptEvent } from '../core/mod.ts';
import { silentLogger } from '../log/mod.ts';
import type { Place } from '../activities/mod.ts';
import { writeInboxBatch } from '../store/mod.ts';
import { ingestWorkflowId } from '../workflows/ids.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

let ctx: TestContext;
const nowhere = (): Place => ({ country: null, city: null });
beforeAll(async () => { ctx = await createTestContext({ worker: false }); });
afterAll(async () => { await ctx.close(); });

async function inboxBatch(workspaceId: string, size: number): Promise<{ batchId: string; ids: string[] }> {
  const batchId = crypto.randomUUID();
  const events = Array.from({ length: size }, (_, i) => acceptEvent({ actor_id: `u${i}`, action: 'a.b' }, crypto.randomUUID(), '2026-03-15T14:32:18.847312Z'));
  await writeInboxBatch(ctx.pool, batchId, workspaceId, events);
  return { batchId, ids: events.map((e) => e.id) };
}

/** `count` inbox batches of `size` events each, committed in order. */
async function inboxBatches(workspaceId: string, count: number, size: number): Promise<Array<{ batchId: string; ids: string[] }>> {
  const batches = [];
  for (let i = 0; i < count; i++) batches.push(await inboxBatch(workspaceId, size));
  return batches;
}

/** A workflow starter on the test's task queue; only the budget and pacing vary between tests. */
const starterWith = (options: { maxEventsPerWorkflow: number; minIntervalMs: number }) =>
  new WorkflowStarter(ctx.temporal, ctx.taskQueue, silentLogger, { concurrency: 8, maxQueued: 100, ...options });

/** The ids of the workspace's ingestion workflows, once `count` are visible. */
async function workflowIdsOf(workspaceId: string, count: number): Promise<string[]> {
  return await eventually(async () => {
    const ids = [];
    for await (const wf of ctx.temporal.workflow.list({ query: `WorkspaceId = '${workspaceId}'` })) ids.push(wf.workflowId);
    return ids.length === count ? ids.sort() : undefined;
  }, 20_000, `${count} workflows to be visible`);
}

async function chainIds(workspaceId: string): Promise<string[]> {
  const { rows } = await ctx.pool.query<{ id: string }>('SELECT id FROM events WHERE workspace_id = $1 ORDER BY seq', [workspaceId]);
  return rows.map((r) => r.id);
}

describe('appending several inbox batches at once', () => {
  it('chains them in the given order in one go, and a second workflow carrying some of them changes nothing', async () => {
    const { key, workspaceId } = await ctx.workspace(['admin']);
    const [a, b, c] = [await inboxBatch(workspaceId, 3), await inboxBatch(workspaceId, 2), await inboxBatch(workspaceId, 4)];
    const first = await appendBatchesToChain(ctx.pool, [a.batchId, b.batchId], [[], []], nowhere);
    expect(first).toEqual({ batchIds: [a.batchId, b.batchId], appended: 5, firstSeq: 1, lastSeq: 5 });
    // The recovery sweep's lone workflow for b, and a coalesced one for b and c.
    expect((await appendBatchesToChain(ctx.pool, [b.batchId], [[]], nowhere)).appended).toBe(0);
    expect(await appendBatchesToChain(ctx.pool, [b.batchId, c.batchId], [[], []], nowhere)).toEqual({ batchIds: [b.batchId, c.batchId], appended: 4, firstSeq: 6, lastSeq: 9 });
    expect(await chainIds(workspaceId)).toEqual([...a.ids, ...b.ids, ...c.ids]);
    const { rows } = await ctx.pool.query('SELECT id, first_seq, last_seq FROM ingest_batches WHERE workspace_id = $1 ORDER BY first_seq', [workspaceId]);
    expect(rows).toEqual([{ id: a.batchId, first_seq: 1, last_seq: 3 }, { id: b.batchId, first_seq: 4, last_seq: 5 }, { id: c.batchId, first_seq: 6, last_seq: 9 }]);
    expect((await ctx.api(key, '/api/v1/verify')).body.data).toEqual({ valid: true, events_checked: 9, breaks: [] });
  });

  it('appends earlier pending batches first when a later batch\'s workflow gets the chain first', async () => {
    const { workspaceId } = await ctx.workspace(['admin']);
    const [a, b, c] = [await inboxBatch(workspaceId, 2), await inboxBatch(workspaceId, 2), await inboxBatch(workspaceId, 2)];
    // Only b's workflow has run: a (committed before it) goes first; c (after it) waits for its own.
    expect(await appendBatchesToChain(ctx.pool, [b.batchId], [[]], nowhere)).toEqual({ batchIds: [b.batchId], appended: 4, firstSeq: 1, lastSeq: 4 });
    expect(await chainIds(workspaceId)).toEqual([...a.ids, ...b.ids]);
    expect((await appendBatchesToChain(ctx.pool, [a.batchId], [[]], nowhere)).appended).toBe(0);
    await appendBatchesToChain(ctx.pool, [c.batchId], [[]], nowhere);
    expect(await chainIds(workspaceId)).toEqual([...a.ids, ...b.ids, ...c.ids]);
  });

  it('refuses batches of two workspaces, and unknown batches, without retrying', async () => {
    const one = await ctx.workspace(['admin']);
    const two = await ctx.workspace(['admin']);
    const [a, b] = [await inboxBatch(one.workspaceId, 1), await inboxBatch(two.workspaceId, 1)];
    await expect(appendBatchesToChain(ctx.pool, [a.batchId, b.batchId], [[], []], nowhere)).rejects.toMatchObject({ type: 'MixedWorkspaces', nonRetryable: true });
    await expect(appendBatchesToChain(ctx.pool, [crypto.randomUUID()], [[]], nowhere)).rejects.toMatchObject({ type: 'UnknownBatch', nonRetryable: true });
    expect(await chainIds(one.workspaceId)).toEqual([]);
  });
});

describe('the workflow starter', () => {
  it('puts the batches a workspace commits while its start is in flight into one workflow, findable by each BatchId', async () => {
    const { workspaceId } = await ctx.workspace(['admin']);
    const batches = await inboxBatches(workspaceId, 5, 2);
    const starter = starterWith({ maxEventsPerWorkflow: 5000, minIntervalMs: 0 });
    for (const batch of batches) starter.enqueue(workspaceId, batch.batchId, 2);
    await starter.drain();

    const workflows = await workflowIdsOf(workspaceId, 2);
    expect(workflows).toEqual([ingestWorkflowId(batches[0]!.batchId), ingestWorkflowId(batches[1]!.batchId)].sort());
    for await (const wf of ctx.temporal.workflow.list({ query: `BatchId = '${batches[3]!.batchId}'` })) expect(wf.workflowId).toBe(ingestWorkflowId(batches[1]!.batchId));

    await ctx.startWorker();
    await eventually(async () => (await chainIds(workspaceId)).length === 10, 20_000, 'the batches to be chained');
    expect(await chainIds(workspaceId)).toEqual(batches.flatMap((b) => b.ids));
  });

  it('keeps a coalesced workflow within its event budget', async () => {
    const { workspaceId } = await ctx.workspace(['admin']);
    const batches = await inboxBatches(workspaceId, 4, 1);
    const starter = starterWith({ maxEventsPerWorkflow: 2, minIntervalMs: 0 });
    for (const batch of batches) starter.enqueue(workspaceId, batch.batchId, 1);
    await starter.drain();
    // One for the first batch, then 2 + 1 within the budget of 2 events.
    const workflows = await workflowIdsOf(workspaceId, 3);
    expect(workflows).toHaveLength(3);
  });

  it('starts a quiet workspace at once, then paces its starts so that one workflow carries what arrived meanwhile', async () => {
    const { workspaceId } = await ctx.workspace(['admin']);
    const batches = await inboxBatches(workspaceId, 4, 1);
    const starter = starterWith({ maxEventsPerWorkflow: 5000, minIntervalMs: 1500 });
    const t0 = performance.now();
    starter.enqueue(workspaceId, batches[0]!.batchId, 1);
    await starter.drain();
    expect(performance.now() - t0).toBeLessThan(1500);
    // Without pacing the next batch would start alone and the two after it would share a third workflow.
    for (const batch of batches.slice(1)) starter.enqueue(workspaceId, batch.batchId, 1);
    await starter.drain();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(await workflowIdsOf(workspaceId, 2)).toEqual([ingestWorkflowId(batches[0]!.batchId), ingestWorkflowId(batches[1]!.batchId)].sort());
  });

  it('does not hold back a full workflow for the interval, even once a timer is set', async () => {
    const { workspaceId } = await ctx.workspace(['admin']);
    const batches = await inboxBatches(workspaceId, 3, 1);
    const starter = starterWith({ maxEventsPerWorkflow: 2, minIntervalMs: 60_000 });
    const t0 = performance.now();
    starter.enqueue(workspaceId, batches[0]!.batchId, 1);
    await starter.drain();
    starter.enqueue(workspaceId, batches[1]!.batchId, 1); // waits for the interval: a timer is set
    starter.enqueue(workspaceId, batches[2]!.batchId, 1); // now 2 events wait, a full workflow: go
    await starter.drain();
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(await workflowIdsOf(workspaceId, 2)).toEqual([ingestWorkflowId(batches[0]!.batchId), ingestWorkflowId(batches[1]!.batchId)].sort());
  });
});
