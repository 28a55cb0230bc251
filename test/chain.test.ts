import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { acceptEvent, parseTimestamp } from '../core/mod.ts';
import { writeInboxBatch } from '../store/mod.ts';
import { ingestWorkflowId } from '../workflows/ids.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext(); });
afterAll(async () => { await ctx.close(); });

const event = (i: number) => ({ actor_id: `user_${i % 7}`, actor_name: 'Ada', action: 'document.viewed', resource: 'document', resource_id: `doc_${i}`, metadata: { i, note: 'ünïcødé ✓' } });

async function storedCount(workspaceId: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [workspaceId]);
  return rows[0]!.n;
}

async function seeded(n: number): Promise<{ key: string; workspaceId: string }> {
  const ws = await ctx.workspace(['admin']);
  for (let i = 0; i < n; i += 100) {
    await ctx.api(ws.key, '/api/v1/events/batch', { body: { events: Array.from({ length: Math.min(100, n - i) }, (_, j) => event(i + j)) } });
  }
  await eventually(async () => (await storedCount(ws.workspaceId)) === n, 20_000, `${n} events stored`);
  return ws;
}

describe('the events table is append-only', () => {
  it('rejects UPDATE, DELETE and TRUNCATE through SQL', async () => {
    const { workspaceId } = await seeded(3);
    await expect(ctx.pool.query("UPDATE events SET action = 'x' WHERE workspace_id = $1", [workspaceId])).rejects.toThrow(/append-only: UPDATE/);
    await expect(ctx.pool.query('DELETE FROM events WHERE workspace_id = $1', [workspaceId])).rejects.toThrow(/append-only: DELETE/);
    await expect(ctx.pool.query('TRUNCATE events')).rejects.toThrow(/append-only: TRUNCATE/);
    expect(await storedCount(workspaceId)).toBe(3);
  });
});

describe('tampering behind the service\'s back is detected by verify', () => {
  it('reports hash_mismatch for a row changed directly in PostgreSQL', async () => {
    const { key, workspaceId } = await seeded(10);
    const { rows } = await ctx.pool.query('SELECT id, encode(event_hash, \'hex\') AS hash FROM events WHERE workspace_id = $1 AND seq = 4', [workspaceId]);
    await ctx.bypassingTriggers(`UPDATE events SET metadata = '{"i": 3, "note": "edited"}' WHERE workspace_id = $1 AND seq = 4`, [workspaceId]);
    const res = await ctx.api(key, '/api/v1/verify');
    expect(res.body.data.valid).toBe(false);
    expect(res.body.data.events_checked).toBe(10);
    expect(res.body.data.breaks).toEqual([{ event_id: rows[0].id, type: 'hash_mismatch', expected_hash: expect.stringMatching(/^[0-9a-f]{64}$/), actual_hash: rows[0].hash }]);
  });

  it('reports chain_break after a row deleted directly in PostgreSQL', async () => {
    const { key, workspaceId } = await seeded(10);
    const { rows } = await ctx.pool.query<{ id: string; hash: string }>(
      `SELECT id, encode(event_hash, 'hex') AS hash FROM events WHERE workspace_id = $1 AND seq IN (4, 5, 6) ORDER BY seq`, [workspaceId]);
    const [fourth, fifth, sixth] = rows;
    await ctx.bypassingTriggers('DELETE FROM events WHERE workspace_id = $1 AND seq = 5', [workspaceId]);
    const res = await ctx.api(key, '/api/v1/verify');
    // The sixth event still links to the deleted fifth, where the fourth was expected.
    expect(res.body.data).toEqual({ valid: false, events_checked: 9, breaks: [
      { event_id: sixth!.id, type: 'chain_break', expected_hash: fourth!.hash, actual_hash: fifth!.hash },
    ] });
  });

  it('reports the cut when the newest events are deleted', async () => {
    const { key, workspaceId } = await seeded(5);
    await ctx.bypassingTriggers('DELETE FROM events WHERE workspace_id = $1 AND seq = 5', [workspaceId]);
    const res = await ctx.api(key, '/api/v1/verify');
    expect(res.body.data.valid).toBe(false);
    expect(res.body.data.breaks).toEqual([expect.objectContaining({ type: 'chain_break' })]);
  });

  it('reports chain_break for an event inserted into the middle of the chain', async () => {
    const { key, workspaceId } = await seeded(6);
    // Re-number 4..6 to 5..7 (descending, to keep the primary key unique), then forge seq 4.
    for (const seq of [6, 5, 4]) await ctx.bypassingTriggers('UPDATE events SET seq = seq + 1 WHERE workspace_id = $1 AND seq = $2', [workspaceId, seq]);
    await ctx.bypassingTriggers(`INSERT INTO events SELECT workspace_id, 4, gen_random_uuid(), batch_id, actor_id, actor_name, actor_type, 'forged.event', action_category,
      resource, resource_id, resource_name, metadata, targets, tenant_id, session_id, NULL, version, ip_address, ip_country, ip_city, user_agent,
      occurred_at, created_at + interval '1 microsecond' / 2, event_hash, previous_event_hash FROM events WHERE workspace_id = $1 AND seq = 3`, [workspaceId]);
    const res = await ctx.api(key, '/api/v1/verify');
    expect(res.body.data.valid).toBe(false);
    expect(res.body.data.breaks.map((b: { type: string }) => b.type)).toContain('chain_break');
  });

  it('never shows one workspace the breaks of another', async () => {
    const other = await seeded(3);
    expect((await ctx.api(other.key, '/api/v1/verify')).body.data).toEqual({ valid: true, events_checked: 3, breaks: [] });
  });
});

describe('many clients sending batches to one workspace at once', () => {
  it('keeps the chain linear, gap-free and verifiable', async () => {
    const { key, workspaceId } = await ctx.workspace(['admin']);
    const clients = 8;
    const perClient = 10;
    const receipts = await Promise.all(Array.from({ length: clients }, async (_, c) => {
      const ids: string[] = [];
      for (let b = 0; b < perClient; b++) {
        const res = await ctx.api(key, '/api/v1/events/batch', { body: { events: Array.from({ length: 25 }, (_, i) => event(c * 1000 + b * 25 + i)) } });
        expect(res.status).toBe(202);
        ids.push(...res.body.events.map((e: { id: string }) => e.id));
      }
      return ids;
    }));
    const total = clients * perClient * 25;
    await eventually(async () => (await storedCount(workspaceId)) === total, 30_000, 'all events stored');
    const { rows } = await ctx.pool.query<{ seqs: number; max: number; ids: number }>(
      'SELECT count(DISTINCT seq)::int AS seqs, max(seq)::int AS max, count(DISTINCT id)::int AS ids FROM events WHERE workspace_id = $1', [workspaceId]);
    expect(rows[0]).toEqual({ seqs: total, max: total, ids: total });
    const { rows: stored } = await ctx.pool.query<{ id: string }>('SELECT id FROM events WHERE workspace_id = $1', [workspaceId]);
    expect(new Set(stored.map((r) => r.id))).toEqual(new Set(receipts.flat()));
    expect((await ctx.api(key, '/api/v1/verify')).body.data).toEqual({ valid: true, events_checked: total, breaks: [] });
    // Group commit: far fewer workflows (batches) than requests.
    const { rows: batches } = await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_batches WHERE workspace_id = $1', [workspaceId]);
    expect(batches[0]!.n).toBeLessThanOrEqual(clients * perClient);
  });
});

describe('an append of a backlog', () => {
  it('chains thousands of pending events of several batches in one transaction, in hand-off order', async () => {
    // Written straight to the inbox, with no workflow started: one append takes them all, as it
    // does a backlog that built up while the worker was down. Over 500 events, so several INSERTs.
    const { key, workspaceId } = await ctx.workspace(['admin']);
    const batches = [700, 1, 650].map((n, b) => ({
      id: crypto.randomUUID(),
      events: Array.from({ length: n }, (_, i) => acceptEvent({ ...event(b * 1000 + i), ip_address: '81.2.69.142' }, crypto.randomUUID(), '2026-03-15T14:32:18.847312Z')),
    }));
    for (const batch of batches) await writeInboxBatch(ctx.pool, batch.id, workspaceId, batch.events);
    const activities = await ctx.activities();
    // Only the last batch is named: the ones handed off before it are appended with it, first.
    const ids = [batches[2]!.id];
    const result = await activities.appendBatches({ batchIds: ids, places: await activities.enrichBatches(ids) });
    expect(result).toEqual({ batchIds: ids, appended: 1351, firstSeq: 1, lastSeq: 1351 });

    const { rows } = await ctx.pool.query<{ id: string; seq: number; created_at: string; ip_city: string | null }>(
      'SELECT id, seq, created_at, ip_city FROM events WHERE workspace_id = $1 ORDER BY seq', [workspaceId]);
    expect(rows.map((r) => r.id)).toEqual(batches.flatMap((b) => b.events.map((e) => e.id)));
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const micros = rows.map((r) => parseTimestamp(r.created_at)!);
    expect(micros.every((m, i) => i === 0 || m === micros[i - 1]! + 1n)).toBe(true);
    expect(new Set(rows.map((r) => r.ip_city))).toEqual(new Set(['London']));
    const { rows: ranges } = await ctx.pool.query('SELECT first_seq, last_seq FROM ingest_batches WHERE workspace_id = $1 ORDER BY received_at', [workspaceId]);
    expect(ranges).toEqual([{ first_seq: 1, last_seq: 700 }, { first_seq: 701, last_seq: 701 }, { first_seq: 702, last_seq: 1351 }]);
    expect((await ctx.api(key, '/api/v1/verify')).body.data).toEqual({ valid: true, events_checked: 1351, breaks: [] });
    expect((await ctx.api(key, '/api/v1/events?action=document.viewed&limit=1')).body.pagination.total).toBe(1351);
    expect((await ctx.api(key, '/api/v1/events?search=ada&limit=1')).body.pagination.total).toBe(1351);
    // Appending again finds nothing pending: idempotent.
    expect(await activities.appendBatches({ batchIds: ids, places: [[]] })).toEqual({ batchIds: ids, appended: 0, firstSeq: 702, lastSeq: 1351 });
  });

  it('keeps nothing of the backlog when an INSERT fails while the next rows are being prepared', async () => {
    const { workspaceId } = await ctx.workspace(['admin']);
    const events = Array.from({ length: 1200 }, (_, i) => acceptEvent(event(i), crypto.randomUUID(), '2026-03-15T14:32:18.847312Z'));
    // Two events with one id in the first INSERT: the events table refuses it.
    const batchId = crypto.randomUUID();
    await writeInboxBatch(ctx.pool, batchId, workspaceId, events.map((e, i) => (i === 20 ? { ...e, id: events[10]!.id } : e)));
    const activities = await ctx.activities();
    await expect(activities.appendBatches({ batchIds: [batchId], places: [[]] })).rejects.toThrow(/duplicate key/);
    expect(await storedCount(workspaceId)).toBe(0);
    const { rows } = await ctx.pool.query('SELECT status, events IS NOT NULL AS kept FROM ingest_batches WHERE id = $1', [batchId]);
    expect(rows).toEqual([{ status: 'pending', kept: true }]);
    const { rows: head } = await ctx.pool.query('SELECT seq FROM chain_heads WHERE workspace_id = $1', [workspaceId]);
    expect(head).toEqual([{ seq: 0 }]);
  });
});

describe('in the Temporal UI', () => {
  it('finds each batch workflow by WorkspaceId and BatchId, with ids and counts but no event bodies in its history', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    await ctx.api(key, '/api/v1/events', { body: { actor_id: 'secret-actor-7731', action: 'invoice.paid', metadata: { card: 'secret-metadata-4242' }, ip_address: '81.2.69.142' } });
    await eventually(async () => (await storedCount(workspaceId)) === 1);
    const { rows } = await ctx.pool.query<{ id: string }>('SELECT id FROM ingest_batches WHERE workspace_id = $1', [workspaceId]);
    const batchId = rows[0]!.id;
    // The append commits before its workflow completes, and the list (Temporal's visibility
    // store) follows a moment later: wait for both.
    await ctx.temporal.workflow.getHandle(ingestWorkflowId(batchId)).result();
    const found = await eventually(async () => {
      const list = [];
      for await (const wf of ctx.temporal.workflow.list({ query: `WorkspaceId = '${workspaceId}' AND BatchId = '${batchId}'` })) list.push(wf);
      return list.length === 1 && list[0]!.status.name === 'COMPLETED' ? list : undefined;
    }, 20_000, 'the workflow to be listed as completed');
    expect(found[0]!.workflowId).toBe(ingestWorkflowId(batchId));
    expect(found[0]!.status.name).toBe('COMPLETED');
    const history = JSON.stringify(await ctx.temporal.workflow.getHandle(ingestWorkflowId(batchId)).fetchHistory(), (_k, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v);
    expect(history).toContain(batchId);
    expect(history).not.toContain('secret-actor-7731');
    expect(history).not.toContain('secret-metadata-4242');
    expect(history).not.toContain('81.2.69.142');
  });
});
