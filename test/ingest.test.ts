import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { computeEventHash } from '../core/mod.ts';
import { eventsAfter } from '../store/mod.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext(); });
afterAll(async () => { await ctx.close(); });

const sample = (n: number, extra: Record<string, unknown> = {}) => ({
  actor_id: 'user_2hG9kLm', actor_name: 'Sarah Chen', actor_type: 'user',
  action: 'document.created', action_category: 'documents',
  resource: 'document', resource_id: `doc_${n}`, resource_name: 'Q4 Financial Report',
  metadata: { folder: 'reports', n }, targets: [{ type: 'folder', id: 'folder_3mK9pLq', name: 'Shared Reports' }],
  session_id: 'sess_4kN8pLm', tenant_id: 'org_7rT2xBc', ...extra,
});

async function storedCount(workspaceId: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [workspaceId]);
  return rows[0]!.n;
}

describe('POST /api/v1/events', () => {
  it('answers 202 with a fresh id, then stores the event on the chain with geo and hashes', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const res = await ctx.api(key, '/api/v1/events', { body: sample(1, { ip_address: '81.2.69.142', occurred_at: '2026-03-15T15:32:18.847312+01:00' }) });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued' });
    const [event] = await eventually(async () => { const e = await eventsAfter(ctx.pool, workspaceId, 0, 10); return e.length ? e : undefined; });
    expect(event).toMatchObject({ id: res.body.id, seq: 1, ip_country: 'GB', ip_city: 'London', occurred_at: '2026-03-15T14:32:18.847312Z', previous_event_hash: null });
    expect(event!.event_hash).toBe(computeEventHash(event!, null));
  });

  it('says where the server spent its time, in a Server-Timing header', async () => {
    const { key } = await ctx.workspace(['ingest']);
    for (const [path, body] of [['/api/v1/events', sample(1)], ['/api/v1/events/batch', { events: [sample(2), sample(3)] }]] as const) {
      const res = await ctx.api(key, path, { body });
      expect(res.status).toBe(202);
      const metrics = res.headers.get('server-timing')!.split(', ');
      const stages = metrics.slice(0, -1).map((s) => s.split(';dur='));
      expect(stages.map(([name]) => name)).toEqual(['auth', 'body', 'wait', 'write']);
      for (const [, ms] of stages) expect(Number(ms)).toBeGreaterThanOrEqual(0);
      const start = Number(/^start;desc="([\d.]+)"$/.exec(metrics.at(-1)!)![1]);
      expect(Math.abs(start - Date.now())).toBeLessThan(5000);
    }
  });

  it('fills occurred_at with the server time and leaves unknown places null for private addresses', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const before = new Date().toISOString();
    await ctx.api(key, '/api/v1/events', { body: { actor_id: 'u', action: 'user.login', ip_address: '10.1.2.3' } });
    const [event] = await eventually(async () => { const e = await eventsAfter(ctx.pool, workspaceId, 0, 10); return e.length ? e : undefined; });
    expect(event!.occurred_at >= before.slice(0, 19)).toBe(true);
    expect(event).toMatchObject({ ip_country: null, ip_city: null, metadata: {}, targets: [], actor_name: null, version: null });
  });

  describe('rejects bad input in the contract format and keeps nothing', () => {
    let key: string; let workspaceId: string;
    beforeAll(async () => { ({ key, workspaceId } = await ctx.workspace(['ingest'])); });

    it.each([
      ['a missing actor_id', { action: 'a.b' }, 'actor_id'],
      ['an empty action', { actor_id: 'u', action: '' }, 'action'],
      ['an unknown field', { actor_id: 'u', action: 'a.b', actor: 'x' }, 'actor'],
      ['metadata that is an array', { actor_id: 'u', action: 'a.b', metadata: [1] }, 'metadata'],
      ['a NUL character', { actor_id: 'u\u0000', action: 'a.b' }, 'actor_id'],
      ['a NUL character deep in metadata', { actor_id: 'u', action: 'a.b', metadata: { a: { b: 'x\u0000' } } }, 'metadata'],
      ['a lone surrogate', { actor_id: 'u', action: 'a.b', actor_name: 'bad \ud800' }, 'actor_name'],
      ['a bad timestamp', { actor_id: 'u', action: 'a.b', occurred_at: '2026-02-30T00:00:00Z' }, 'occurred_at'],
      ['a timestamp with 99 seconds', { actor_id: 'u', action: 'a.b', occurred_at: '2026-03-01T00:00:99Z' }, 'occurred_at'],
      ['a timestamp without zone', { actor_id: 'u', action: 'a.b', occurred_at: '2026-03-01T00:00:00' }, 'occurred_at'],
      ['a fractional version', { actor_id: 'u', action: 'a.b', version: 1.5 }, 'version'],
      ['a bad ip address', { actor_id: 'u', action: 'a.b', ip_address: '999.1.1.1' }, 'ip_address'],
      ['a target without type', { actor_id: 'u', action: 'a.b', targets: [{ id: 'x' }] }, 'targets[0].type'],
      ['too many targets', { actor_id: 'u', action: 'a.b', targets: Array.from({ length: 51 }, () => ({ type: 't' })) }, 'targets'],
      ['an over-long actor_id', { actor_id: 'x'.repeat(256), action: 'a.b' }, 'actor_id'],
      ['metadata over 16 KiB', { actor_id: 'u', action: 'a.b', metadata: { blob: 'x'.repeat(17_000) } }, 'metadata'],
      ['metadata nested too deep', { actor_id: 'u', action: 'a.b', metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }, 'metadata'],
      ['a body that is not an object', [1, 2], '(body)'],
    ])('422 for %s', async (_what, body, field) => {
      const res = await ctx.api(key, '/api/v1/events', { body });
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.message.startsWith(field)).toBe(true);
      expect(res.body.details[0].path).toBe(field);
    });

    it.each([
      ['a missing field', { action: 'a.b' }, 'actor_id is required'],
      ['a number for a string', { actor_id: 5, action: 'a.b' }, 'actor_id must be a string, not a number'],
      ['null for a required field', { actor_id: null, action: 'a.b' }, 'actor_id must be a string, not null'],
      ['a string for a number', { actor_id: 'u', action: 'a.b', version: '2' }, 'version must be a number, not a string'],
      ['a fraction for an integer', { actor_id: 'u', action: 'a.b', version: 1.5 }, 'version must be an integer'],
      ['an array for metadata', { actor_id: 'u', action: 'a.b', metadata: [1] }, 'metadata must be a JSON object, not an array'],
      ['an object for targets', { actor_id: 'u', action: 'a.b', targets: {} }, 'targets must be an array, not a JSON object'],
      ['a body that is an array', [1, 2], '(body) must be a JSON object, not an array'],
    ])('says what is wrong with %s, telling a wrong type from a missing field', async (_what, body, message) => {
      const res = await ctx.api(key, '/api/v1/events', { body });
      expect(res.status).toBe(422);
      expect(res.body.message).toBe(message);
    });

    it('400 for malformed JSON and for an empty body', async () => {
      expect((await ctx.api(key, '/api/v1/events', { rawBody: '{"actor_id": ' })).body).toMatchObject({ error: 'bad_request' });
      expect((await ctx.api(key, '/api/v1/events', { method: 'POST' })).status).toBe(400);
    });

    it('413 for a body over the limit', async () => {
      const res = await ctx.api(key, '/api/v1/events', { rawBody: JSON.stringify({ actor_id: 'u', action: 'a', metadata: { x: 'y'.repeat(70_000) } }) });
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('payload_too_large');
    });

    it('stored none of the rejected events', async () => {
      const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM ingest_batches WHERE workspace_id = $1', [workspaceId]);
      expect(rows[0].n).toBe(0);
    });
  });
});

describe('POST /api/v1/events/batch', () => {
  it('answers a receipt per event in input order and chains them in that order, 1 µs apart', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const res = await ctx.api(key, '/api/v1/events/batch', { body: { events: Array.from({ length: 100 }, (_, i) => sample(i)) } });
    expect(res.status).toBe(202);
    expect(res.body.events).toHaveLength(100);
    const events = await eventually(async () => { const e = await eventsAfter(ctx.pool, workspaceId, 0, 200); return e.length === 100 ? e : undefined; });
    expect(events.map((e) => e.id)).toEqual(res.body.events.map((r: { id: string }) => r.id));
    for (let i = 1; i < events.length; i++) {
      const gap = Date.parse(events[i]!.created_at.slice(0, 23) + 'Z') * 1000 + Number(events[i]!.created_at.slice(23, 26))
        - (Date.parse(events[i - 1]!.created_at.slice(0, 23) + 'Z') * 1000 + Number(events[i - 1]!.created_at.slice(23, 26)));
      expect(gap).toBe(1);
      expect(events[i]!.previous_event_hash).toBe(events[i - 1]!.event_hash);
    }
  });

  it('gives each event of a batch the place of its own address', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const ips = ['89.160.20.112', undefined, '10.1.2.3', '81.2.69.142', '2001:4860:4860::8888'];
    const res = await ctx.api(key, '/api/v1/events/batch', { body: { events: ips.map((ip, i) => sample(i, ip ? { ip_address: ip } : {})) } });
    expect(res.status).toBe(202);
    const events = await eventually(async () => { const e = await eventsAfter(ctx.pool, workspaceId, 0, 10); return e.length === ips.length ? e : undefined; });
    expect(events.map((e) => [e.ip_address, e.ip_country, e.ip_city])).toEqual([
      ['89.160.20.112', 'SE', 'Stockholm'], [null, null, null], ['10.1.2.3', null, null], ['81.2.69.142', 'GB', 'London'], ['2001:4860:4860::8888', 'CA', 'Montreal'],
    ]);
    // The inbox let go of the addresses it kept for the geo step along with the events.
    const { rows } = await ctx.pool.query('SELECT status, events, ip_addresses FROM ingest_batches WHERE workspace_id = $1', [workspaceId]);
    expect(rows).toEqual([{ status: 'appended', events: null, ip_addresses: null }]);
  });

  it('places the events of a batch handed off before the inbox kept their addresses apart, from their JSON', async () => {
    const { workspaceId } = await ctx.workspace(['ingest']);
    const activities = await ctx.activities();
    const client = await ctx.pool.connect();
    try {
      // Inside a transaction that is rolled back, so no worker ever sees this half-made batch.
      await client.query('BEGIN');
      const batchId = crypto.randomUUID();
      const events = [{ ip_address: '89.160.20.112' }, { ip_address: null }, { ip_address: '10.1.2.3' }, { ip_address: '81.2.69.142' }];
      await client.query(`INSERT INTO ingest_batches (id, workspace_id, events_count, event_ids, events) VALUES ($1, $2, 4, $3, $4::json)`,
        [batchId, workspaceId, events.map(() => crypto.randomUUID()), JSON.stringify(events)]);
      const inTransaction = await ctx.activities(client as unknown as pg.Pool);
      expect(await inTransaction.enrichBatches([batchId])).toEqual([[['SE', 'Stockholm'], null, null, ['GB', 'London']]]);
      // Not visible outside the transaction: nothing to place.
      expect(await activities.enrichBatches([batchId])).toEqual([[]]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('rejects the whole batch when one item is invalid, naming the item', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const res = await ctx.api(key, '/api/v1/events/batch', { body: { events: [sample(1), sample(2), { actor_id: 'x' }] } });
    expect(res.status).toBe(422);
    expect(res.body.message).toBe('events[2].action is required');
    const typed = await ctx.api(key, '/api/v1/events/batch', { body: { events: [sample(1), { ...sample(2), actor_id: 7 }] } });
    expect(typed.status).toBe(422);
    expect(typed.body.message).toBe('events[1].actor_id must be a string, not a number');
    expect((await ctx.api(key, '/api/v1/events/batch', { body: { events: {} } })).body.message).toBe('events must be an array, not a JSON object');
    await new Promise((r) => setTimeout(r, 300));
    expect(await storedCount(workspaceId)).toBe(0);
  });

  it.each([
    ['more than 100 events', { events: Array.from({ length: 101 }, (_, i) => sample(i)) }, 'events'],
    ['no events', { events: [] }, 'events'],
    ['events that is not an array', { events: {} }, 'events'],
    ['a missing events field', { event: [] }, 'events'],
  ])('422 for %s', async (_what, body, field) => {
    const { key } = await ctx.workspace(['ingest']);
    const res = await ctx.api(key, '/api/v1/events/batch', { body });
    expect(res.status).toBe(422);
    expect(res.body.details[0].path).toBe(field);
  });
});

describe('chain order', () => {
  it('follows the order in which a client sent its events, one request after another', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await ctx.api(key, '/api/v1/events', { body: sample(i, { action: `step.${i}` }) });
      sent.push(res.body.id);
    }
    const stored = await eventually(async () => { const e = await eventsAfter(ctx.pool, workspaceId, 0, 100); return e.length === 30 ? e : undefined; });
    expect(stored.map((e) => e.id)).toEqual(sent);
  });
});

describe('idempotency keys', () => {
  it('returns the original id as duplicate after the event is stored', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const first = await ctx.api(key, '/api/v1/events', { body: sample(1, { idempotency_key: 'order-1' }) });
    await eventually(async () => (await storedCount(workspaceId)) === 1);
    const again = await ctx.api(key, '/api/v1/events', { body: sample(1, { idempotency_key: 'order-1' }) });
    expect(again.body).toEqual({ id: first.body.id, status: 'duplicate' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await storedCount(workspaceId)).toBe(1);
  });

  it('returns the original id for a repeated key within one batch', async () => {
    const { key } = await ctx.workspace(['ingest']);
    const res = await ctx.api(key, '/api/v1/events/batch', { body: { events: [sample(1, { idempotency_key: 'k' }), sample(2), sample(3, { idempotency_key: 'k' })] } });
    expect(res.body.events[2]).toEqual({ id: res.body.events[0].id, status: 'duplicate' });
    expect(res.body.events[1].status).toBe('queued');
  });

  it('lets exactly one of many concurrent requests with the same key through', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const results = await Promise.all(Array.from({ length: 20 }, () => ctx.api(key, '/api/v1/events', { body: sample(1, { idempotency_key: 'race' }) })));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.body.status === 'queued')).toHaveLength(1);
    await eventually(async () => (await storedCount(workspaceId)) === 1);
  });

  it('keeps keys per workspace: the same key in another workspace is a new event', async () => {
    const a = await ctx.workspace(['ingest']);
    const b = await ctx.workspace(['ingest']);
    const ra = await ctx.api(a.key, '/api/v1/events', { body: sample(1, { idempotency_key: 'shared' }) });
    const rb = await ctx.api(b.key, '/api/v1/events', { body: sample(1, { idempotency_key: 'shared' }) });
    expect(rb.body.status).toBe('queued');
    expect(rb.body.id).not.toBe(ra.body.id);
  });
});

describe('GET /api/v1/verify', () => {
  it('reports a valid chain with the number of events checked', async () => {
    const { key, workspaceId } = await ctx.workspace(['admin']);
    await ctx.api(key, '/api/v1/events/batch', { body: { events: Array.from({ length: 30 }, (_, i) => sample(i)) } });
    await eventually(async () => (await storedCount(workspaceId)) === 30);
    const res = await ctx.api(key, '/api/v1/verify');
    expect(res.body).toEqual({ data: { valid: true, events_checked: 30, breaks: [] } });
    const limited = await ctx.api(key, '/api/v1/verify?limit=10');
    expect(limited.body.data).toMatchObject({ valid: true, events_checked: 10, has_more: true });
    const rest = await ctx.api(key, `/api/v1/verify?from=${limited.body.data.next_from}`);
    expect(rest.body.data).toEqual({ valid: true, events_checked: 20, breaks: [] });
  });

  it('400 for a malformed from, a from after to, an out-of-range limit and unknown parameters', async () => {
    const { key } = await ctx.workspace(['read']);
    for (const query of ['from=yesterday', 'from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'limit=0', 'limit=abc', 'frm=2026-03-01T00:00:00Z']) {
      const res = await ctx.api(key, `/api/v1/verify?${query}`);
      expect([res.status, res.body.error]).toEqual([400, 'bad_request']);
    }
  });
});
