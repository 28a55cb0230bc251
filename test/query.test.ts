import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { computeEventHash } from '../core/mod.ts';
import { createApiKey, eventPageStatements, eventsAfter, MIGRATIONS_DIR, type EventPageRequest } from '../store/mod.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext(); });
afterAll(async () => { await ctx.close(); });

type Input = Record<string, unknown>;

const sarah = { actor_id: 'user_sarah', actor_name: 'Sarah Chen', actor_type: 'user', session_id: 'sess_s1', tenant_id: 'org_a', ip_address: '50.0.80.10' };
const omar = { actor_id: 'user_omar', actor_name: 'Omar Haddad', actor_type: 'user', session_id: 'sess_s2', tenant_id: 'org_a' };
const lisa = { actor_id: 'user_lisa', actor_name: 'Lisa Wang', actor_type: 'user', session_id: 'sess_s3', tenant_id: 'org_b' };

/** The corpus every filter is checked against; its index is its chain position (one batch keeps input order). */
const CORPUS: Input[] = [
  /* 0 */ { ...sarah, action: 'user.login', action_category: 'auth', resource: 'user', resource_id: 'user_sarah', resource_name: 'Sarah Chen', metadata: { method: 'sso' } },
  /* 1 */ { ...sarah, action: 'document.uploaded', resource: 'document', resource_id: 'doc_1', resource_name: 'Q4 Report.pdf', metadata: { folder: 'reports', size: 1000 },
    targets: [{ type: 'folder', id: 'folder_reports', name: 'Reports' }] },
  /* 2 */ { ...sarah, action: 'document.moved', resource: 'document', resource_id: 'doc_1', resource_name: 'Q4 Report.pdf', metadata: { note: '100% done' },
    targets: [{ type: 'folder', id: 'folder_reports', name: 'Reports' }, { type: 'folder', id: 'folder_archive', name: 'Archive' }] },
  /* 3 */ { ...omar, action: 'comment.created', resource: 'comment', resource_id: 'cmt_1', metadata: { text: 'looks good' } },
  /* 4 */ { ...omar, action: 'document.shared', resource: 'document', resource_id: 'doc_2', resource_name: 'Budget_2026.xlsx', metadata: { permission: 'edit' },
    targets: [{ type: 'user', id: 'user_sarah', name: 'Sarah Chen' }, { type: 'folder', id: 'folder_shared' }] },
  /* 5 */ { ...lisa, action: 'invoice.paid', resource: 'invoice', resource_id: 'inv_1', resource_name: 'INV-0001', metadata: { amount_cents: 12900, memo: "O'Brien; DROP TABLE events; --" } },
  /* 6 */ { ...lisa, action: 'document.viewed', resource: 'document', resource_id: 'doc_3', resource_name: 'Roadmap \\ 2026', metadata: {} },
  /* 7 */ { ...lisa, action: 'documentation.read', resource: 'page', resource_id: 'doc_1', metadata: {} },
  /* 8 */ { ...omar, action: 'document.viewed', resource: 'document', resource_id: 'doc_4', resource_name: 'BudgetX2026 draft', metadata: { owner: 'Sarah CHEN' } },
  /* 9 */ { ...sarah, action: 'user.logout', resource: 'user', resource_id: 'user_sarah', metadata: {}, targets: [{ type: 'user', id: 'folder_reports' }] },
  /* 10 */ { actor_id: 'system', action: 'settings.updated', metadata: { changed: ['retention'] } },
];

interface Workspace { workspaceId: string; key: string; ids: string[] }

async function ingest(key: string, events: Input[]): Promise<string[]> {
  const res = await ctx.api(key, '/api/v1/events/batch', { body: { events } });
  expect(res.status).toBe(202);
  return res.body.events.map((r: { id: string }) => r.id);
}

async function storedCount(workspaceId: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [workspaceId]);
  return rows[0]!.n;
}

async function workspaceWith(events: Input[]): Promise<Workspace> {
  const { workspaceId, key } = await ctx.workspace(['ingest', 'read']);
  const ids = await ingest(key, events);
  await eventually(async () => (await storedCount(workspaceId)) === events.length, 20_000, 'the corpus to be stored');
  return { workspaceId, key, ids };
}

const get = (key: string, path: string) => ctx.api(key, path);
const ids = (body: { data: Array<{ id: string }> }) => body.data.map((e) => e.id);

let a: Workspace;
let b: Workspace;
beforeAll(async () => { [a, b] = await Promise.all([workspaceWith(CORPUS), workspaceWith(CORPUS)]); });

describe('GET /api/v1/events: filters', () => {
  it('lists every event of the workspace in chain order (oldest first) with the nested shape', async () => {
    const res = await get(a.key, '/api/v1/events');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(a.ids);
    expect(res.body.pagination).toEqual({ has_more: false, next_cursor: null, total: CORPUS.length });
    const createdAt = res.body.data.map((e: { created_at: string }) => e.created_at);
    expect([...createdAt].sort()).toEqual(createdAt);

    const [stored] = await eventsAfter(ctx.pool, a.workspaceId, 1, 1);
    expect(res.body.data[1]).toEqual({
      id: a.ids[1],
      actor: { id: 'user_sarah', name: 'Sarah Chen', type: 'user' },
      action: 'document.uploaded',
      action_category: null,
      resource: { type: 'document', id: 'doc_1', name: 'Q4 Report.pdf' },
      targets: [{ type: 'folder', id: 'folder_reports', name: 'Reports' }],
      metadata: { folder: 'reports', size: 1000 },
      tenant_id: 'org_a',
      session_id: 'sess_s1',
      ip_address: '50.0.80.10',
      ip_country: 'US',
      ip_city: 'San Francisco',
      user_agent: null,
      idempotency_key: null,
      version: null,
      integrity: { event_hash: stored!.event_hash, previous_event_hash: res.body.data[0].integrity.event_hash },
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      created_at: stored!.created_at,
    });
    expect(stored!.event_hash).toBe(computeEventHash(stored!, res.body.data[0].integrity.event_hash));
  });

  it('keeps targets in the order they were sent', async () => {
    const res = await get(a.key, '/api/v1/events?action=document.moved');
    expect(res.body.data[0].targets.map((t: { id: string }) => t.id)).toEqual(['folder_reports', 'folder_archive']);
  });

  it.each([
    ['action (exact)', 'action=document.viewed', [6, 8]],
    ['action with a trailing * wildcard', 'action=document.*', [1, 2, 4, 6, 8]],
    ['action wildcard that is a whole word prefix', 'action=doc*', [1, 2, 4, 6, 7, 8]],
    ['action * alone (every action)', 'action=*', CORPUS.map((_, i) => i)],
    ['actor_id', 'actor_id=user_omar', [3, 4, 8]],
    ['resource (type)', 'resource=document', [1, 2, 4, 6, 8]],
    ['resource_id', 'resource_id=doc_1', [1, 2, 7]],
    ['resource and resource_id', 'resource=document&resource_id=doc_1', [1, 2]],
    ['tenant_id', 'tenant_id=org_b', [5, 6, 7]],
    ['session_id', 'session_id=sess_s1', [0, 1, 2, 9]],
    ['target_type', 'target_type=user', [4, 9]],
    ['target_id', 'target_id=folder_reports', [1, 2, 9]],
    ['target_type and target_id on the same target', 'target_type=folder&target_id=folder_reports', [1, 2]],
    ['target_type and target_id that only match different targets', 'target_type=folder&target_id=user_sarah', []],
    ['several filters at once (AND)', 'session_id=sess_s1&action=document.*&target_id=folder_archive', [2]],
    ['a value no event has', 'actor_id=nobody', []],
  ])('filters by %s', async (_what, query, expected) => {
    const res = await get(a.key, `/api/v1/events?${query}`);
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(expected.map((i) => a.ids[i]));
    expect(res.body.pagination.total).toBe(expected.length);
  });

  it.each([
    ['an actor name, ignoring case', 'sArAh cHeN', [0, 1, 2, 8, 9]],
    ['an action', 'comment.cre', [3]],
    ['a resource name', 'q4 report', [1, 2]],
    ['metadata', 'looks good', [3]],
    ['a % literally, not as a wildcard', '100%', [2]],
    ['a _ literally, not as a wildcard', 'Budget_2026', [4]],
    ['a backslash literally', 'Roadmap \\ 2026', [6]],
    ['SQL metacharacters literally', "O'Brien; DROP TABLE events; --", [5]],
    ['non-ASCII text around a searchable run', 'Zürich 2026 ünïcödé', []],
    ['two characters', 'q4', [1, 2]],
    ['one character', '%', [2]],
    ['only wildcards, literally', '%%%___', []],
    ['non-ASCII letters only', 'ünïcödé', []],
  ])('searches %s', async (_what, search, expected) => {
    const res = await get(a.key, `/api/v1/events?search=${encodeURIComponent(search)}`);
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(expected.map((i) => a.ids[i]));
  });

  it('does not search fields outside actor name, action, resource name and metadata', async () => {
    // "Archive" is only a target's name; "org_b" only a tenant.
    for (const search of ['Archive', 'org_b']) {
      expect(ids((await get(a.key, `/api/v1/events?search=${search}`)).body)).toEqual([]);
    }
  });

  it('filters on created_at with inclusive from and to, in any time zone notation', async () => {
    const all = (await get(a.key, '/api/v1/events')).body.data as Array<{ created_at: string }>;
    const from = all[2]!.created_at;
    const to = all[5]!.created_at;
    const res = await get(a.key, `/api/v1/events?from=${from}&to=${to}`);
    expect(ids(res.body)).toEqual(a.ids.slice(2, 6));
    expect(res.body.pagination.total).toBe(4);
    // The same instant written with an offset.
    const shifted = new Date(Date.parse(from.slice(0, 23) + 'Z') + 3_600_000).toISOString().slice(0, 23) + from.slice(23, 26) + '+01:00';
    expect(ids((await get(a.key, `/api/v1/events?from=${encodeURIComponent(shifted)}&to=${to}`)).body)).toEqual(a.ids.slice(2, 6));
    expect(ids((await get(a.key, `/api/v1/events?from=${to}&to=${to}`)).body)).toEqual([a.ids[5]]);
    expect(ids((await get(a.key, `/api/v1/events?from=${from}&session_id=sess_s1`)).body)).toEqual([a.ids[2], a.ids[9]]);
    expect(ids((await get(a.key, '/api/v1/events?from=2099-01-01T00:00:00Z')).body)).toEqual([]);
    expect(ids((await get(a.key, '/api/v1/events?to=2000-01-01T00:00:00Z')).body)).toEqual([]);
  });

  it('counts the whole workspace and any time range exactly, on every page', async () => {
    const all = (await get(a.key, '/api/v1/events')).body.data as Array<{ created_at: string }>;
    const at = (i: number) => all[i]!.created_at;
    const ranges: Array<{ from?: string; to?: string }> = [{}, { from: at(0) }, { from: at(3) }, { to: at(4) }, { from: at(1), to: at(9) }, { from: at(10), to: at(10) },
      { from: '2000-01-01T00:00:00.000000Z', to: '2000-01-02T00:00:00.000000Z' }, { from: at(10), to: '2099-01-01T00:00:00.000000Z' }];
    for (const range of ranges) {
      const { rows } = await ctx.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM events WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at <= $3)',
        [a.workspaceId, range.from ?? null, range.to ?? null]);
      const query = new URLSearchParams({ ...range as Record<string, string>, limit: '2' });
      const first = await get(a.key, `/api/v1/events?${query}`);
      expect([range, first.body.pagination.total]).toEqual([range, rows[0]!.n]);
      if (first.body.pagination.next_cursor) {
        const next = await get(a.key, `/api/v1/events?${query}&cursor=${first.body.pagination.next_cursor}`);
        expect([range, next.body.pagination.total]).toEqual([range, rows[0]!.n]);
      }
    }
  });

  it("never shows another workspace's events, whatever the filters", async () => {
    for (const query of ['', 'session_id=sess_s1', 'search=Sarah', 'target_id=folder_reports', 'action=document.*', 'resource_id=doc_1']) {
      const res = await get(b.key, `/api/v1/events?${query}`);
      for (const id of ids(res.body)) expect(b.ids).toContain(id);
    }
    expect((await get(b.key, '/api/v1/events')).body.pagination.total).toBe(CORPUS.length);
  });

  it('serves a search from the index of event_search alone, in chain order, for page and count', async () => {
    // A first page (page and count in one statement), and a later page and its count.
    const first = eventPageStatements({ workspaceId: a.workspaceId, filter: { search: 'report' }, limit: 25 });
    const later = eventPageStatements({ workspaceId: a.workspaceId, filter: { search: 'report' }, limit: 25, afterSeq: 1, counted: { total: 1, throughSeq: 1 } });
    expect(first.count).toBeUndefined();
    // Without sequential or bitmap scans, the planner still reads event_search by an index-only
    // scan once vacuum has marked its pages all-visible, unless the index no longer covers the
    // search text (the heap would have to be read for every row tested).
    await ctx.pool.query('VACUUM event_search');
    const client = await ctx.pool.connect();
    try {
      await client.query('BEGIN');
      for (const off of ['seqscan', 'bitmapscan']) await client.query(`SET LOCAL enable_${off} = off`);
      for (const statement of [first.page, later.page, later.count!]) {
        const { rows } = await client.query(`EXPLAIN ${statement.text}`, statement.values);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain('Index Only Scan using event_search_scan on event_search');
        expect(plan).not.toMatch(/Seq Scan on event_search|Disabled: true/);
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('GET /api/v1/events: search is case-insensitive beyond ASCII', () => {
  const people: Input[] = [
    { actor_id: 'u1', actor_name: 'ÄRGER Müller', action: 'doc.viewed' },
    { actor_id: 'u2', actor_name: 'Élodie Dubois', action: 'doc.viewed', resource_name: 'Straße Plan' },
    { actor_id: 'u3', actor_name: 'ΣΟΦΙΑ Παππά', action: 'doc.viewed', metadata: { trip: 'İstanbul' } },
    { actor_id: 'u4', actor_name: 'Жанна Ким', action: 'doc.viewed' },
  ];
  let w: Workspace;
  beforeAll(async () => { w = await workspaceWith(people); });
  const found = async (term: string) => ids((await get(w.key, `/api/v1/events?search=${encodeURIComponent(term)}`)).body);

  it.each([
    ['ärger', 0], ['MÜLLER', 0], ['müller', 0], ['ärger mü', 0],
    ['élodie', 1], ['ÉLODIE DUBOIS', 1], ['STRASSE', undefined], ['straße', 1], ['STRAßE', 1],
    ['σοφια', 2], ['Παππα', undefined], ['παππά', 2], ['istanbul', 2],
    ['жанна', 3], ['КИМ', 3],
  ])('%s finds %s', async (term, index) => {
    // Letters are lowered one for one (Unicode simple case mapping), as ILIKE does: accents are
    // kept (`Παππα` is not `Παππά`), and ß is not "ss".
    expect(await found(term)).toEqual(index === undefined ? [] : [w.ids[index]]);
  });

  it('lowers the rows stored before migration 008 when it is applied', async () => {
    // Make the search rows of this workspace what migration 007 stored (ASCII letters lowered only).
    await ctx.bypassingTriggers(`UPDATE event_search s SET text = lower(event_search_text(e.actor_name, e.action, e.resource_name, e.metadata) COLLATE "C")
      FROM events e WHERE e.workspace_id = s.workspace_id AND e.seq = s.seq AND s.workspace_id = $1`, [w.workspaceId]);
    expect(await found('ärger')).toEqual([]);
    await ctx.pool.query(readFileSync(join(MIGRATIONS_DIR, '008_search_unicode_case.sql'), 'utf8'));
    expect(await found('ärger')).toEqual([w.ids[0]]);
    expect(await found('жанна')).toEqual([w.ids[3]]);
    // The rule that derived rows never change is back.
    await expect(ctx.pool.query('UPDATE event_search SET text = text WHERE workspace_id = $1', [w.workspaceId])).rejects.toThrow();
  });
});

describe('GET /api/v1/events: search over long texts', () => {
  // Texts over 600 characters are stored in overlapping parts (migrations/007_search_rows.sql).
  // Every term below is cut from a stored text, around the parts' edges, and the API must find
  // exactly the events whose whole text holds it, each once, as ILIKE over the whole text does.
  it('finds every term of up to 200 characters wherever it lies, and counts each event once', async () => {
    const { workspaceId, key } = await ctx.workspace(['ingest', 'read']);
    const words = ['alpha', 'Bravo', 'charlie', 'DELTA', 'echo', 'foxtrot', 'golf', 'hotel'];
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    const filler = (chars: number) => {
      let text = '';
      while (text.length < chars) text += `${words[next() % words.length]}${next() % 1000} `;
      return text.slice(0, chars);
    };
    const lengths = [10, 590, 600, 601, 1002, 1500, 4000, 15_000];
    await ingest(key, lengths.map((n, i) => ({ actor_id: 'u', actor_name: `Writer ${i}`, action: 'note.saved', metadata: { body: filler(n) } })));
    await eventually(async () => (await storedCount(workspaceId)) === lengths.length, 20_000);

    const { rows: texts } = await ctx.pool.query<{ text: string }>(
      'SELECT event_search_text(actor_name, action, resource_name, metadata) AS text FROM events WHERE workspace_id = $1 ORDER BY seq', [workspaceId]);
    const terms = new Set<string>();
    for (const { text } of texts) {
      const start = text.lastIndexOf('\n') + 1;
      for (const edge of [0, 401, 600, 802, 1001, 1203, 3609, 14_436]) {
        for (const length of [3, 40, 199, 200]) {
          for (const at of [edge - length, edge - Math.floor(length / 2), edge - 1, edge]) {
            if (at >= start && at + length <= text.length) terms.add(text.slice(at, at + length));
          }
        }
      }
    }
    expect(terms.size).toBeGreaterThan(100);
    for (const term of terms) {
      const { rows: expected } = await ctx.pool.query<{ id: string }>(
        `SELECT id FROM events WHERE workspace_id = $1 AND event_search_text(actor_name, action, resource_name, metadata) ILIKE $2 ORDER BY seq`,
        [workspaceId, `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`]);
      const res = await get(key, `/api/v1/events?search=${encodeURIComponent(term.toUpperCase())}&limit=100`);
      expect([term, res.status, res.body.pagination.total]).toEqual([term, 200, expected.length]);
      expect([term, ids(res.body)]).toEqual([term, expected.map((r) => r.id)]);
    }
  });

  it('stores and finds the longest text of four-byte characters the API accepts', async () => {
    // Parts of 600 characters of 4 bytes each: the largest B-tree entries event_search can hold.
    const { workspaceId, key } = await ctx.workspace(['ingest', 'read']);
    const metadata = { s: `${'😀'.repeat(3_000)}zebra${'😀'.repeat(1_000)}` };
    await ingest(key, [{ actor_id: 'u', action: 'note.saved', metadata }]);
    await eventually(async () => (await storedCount(workspaceId)) === 1, 20_000);
    for (const term of ['😀😀😀', 'ZEBRA', `${'😀'.repeat(199)}z`]) {
      expect([term, (await get(key, `/api/v1/events?search=${encodeURIComponent(term)}`)).body.pagination.total]).toEqual([term, 1]);
    }
  });
});

describe('GET /api/v1/events: pagination', () => {
  it('defaults to 25 events a page and says how many match in all', async () => {
    const ws = await workspaceWith(Array.from({ length: 30 }, (_, i) => ({ actor_id: 'u', action: 'a.b', metadata: { i } })));
    const first = await get(ws.key, '/api/v1/events');
    expect(first.body.data).toHaveLength(25);
    expect(first.body.pagination).toEqual({ has_more: true, next_cursor: expect.stringMatching(/^[A-Za-z0-9_-]+$/), total: 30 });
    const rest = await get(ws.key, `/api/v1/events?cursor=${first.body.pagination.next_cursor}`);
    expect(ids(rest.body)).toEqual(ws.ids.slice(25));
    expect(rest.body.pagination).toEqual({ has_more: false, next_cursor: null, total: 30 });
  });

  it('walks every matching event exactly once, in order, through the cursors', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(a.key, `/api/v1/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.pagination.total).toBe(CORPUS.length);
      seen.push(...ids(res.body));
      cursor = res.body.pagination.next_cursor;
      expect(res.body.pagination.has_more).toBe(cursor !== null);
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual(a.ids);
  });

  it('lets the page size change between pages of one query', async () => {
    const first = await get(a.key, '/api/v1/events?resource=document&limit=2');
    const second = await get(a.key, `/api/v1/events?resource=document&limit=100&cursor=${first.body.pagination.next_cursor}`);
    expect([...ids(first.body), ...ids(second.body)]).toEqual([1, 2, 4, 6, 8].map((i) => a.ids[i]));
  });

  it('neither skips nor repeats events while new ones keep arriving, and the total grows with them', async () => {
    const event = (session: string, i: number) => ({ actor_id: 'u', action: 'page.viewed', session_id: session, metadata: { i } });
    const ws = await workspaceWith(Array.from({ length: 10 }, (_, i) => event(i % 2 ? 'sess_odd' : 'sess_even', i)));
    const seen: string[] = [];
    let page = await get(ws.key, '/api/v1/events?session_id=sess_even&limit=2');
    expect(page.body.pagination.total).toBe(5);
    seen.push(...ids(page.body));
    let arrived = 0;
    while (page.body.pagination.next_cursor) {
      if (arrived < 3) {
        // More of both sessions arrive between two pages.
        await ingest(ws.key, [event('sess_even', 100 + arrived), event('sess_odd', 200 + arrived)]);
        arrived++;
        await eventually(async () => (await storedCount(ws.workspaceId)) === 10 + 2 * arrived);
      }
      page = await get(ws.key, `/api/v1/events?session_id=sess_even&limit=2&cursor=${page.body.pagination.next_cursor}`);
      expect(page.status).toBe(200);
      seen.push(...ids(page.body));
    }
    expect(page.body.pagination.total).toBe(8);
    const { rows } = await ctx.pool.query<{ id: string }>(
      "SELECT id FROM events WHERE workspace_id = $1 AND session_id = 'sess_even' ORDER BY seq", [ws.workspaceId]);
    expect(seen).toEqual(rows.map((r) => r.id));
  });

  it('pages a search exactly, for rare terms far down the chain and for common ones', async () => {
    // Over a thousand events, so a search page looks past the first events tested in chain order.
    const { workspaceId, key } = await ctx.workspace(['ingest', 'read']);
    const batches = Array.from({ length: 12 }, (_, b) => Array.from({ length: 100 }, (_, i) => {
      const n = b * 100 + i;
      return { actor_id: 'u', action: 'page.viewed', metadata: { n, tag: n % 250 === 7 ? 'needle' : 'hay' } };
    }));
    for (const batch of batches) await ingest(key, batch);
    await eventually(async () => (await storedCount(workspaceId)) === 1200, 30_000);

    for (const [search, limit] of [['needle', 3], ['needle', 10], ['hay', 100], ['HAY', 7]] as const) {
      const { rows } = await ctx.pool.query<{ id: string }>(
        "SELECT id FROM events WHERE workspace_id = $1 AND metadata->>'tag' ILIKE $2 ORDER BY seq", [workspaceId, search]);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(key, `/api/v1/events?search=${search}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.body.pagination.total).toBe(rows.length);
        seen.push(...ids(res.body));
        cursor = res.body.pagination.next_cursor;
      } while (cursor);
      expect(seen).toEqual(rows.map((r) => r.id));
    }
  });

  describe('refuses a cursor it cannot honour with 400 bad_request', () => {
    let cursor: string;
    beforeAll(async () => { cursor = (await get(a.key, '/api/v1/events?session_id=sess_s1&limit=1')).body.pagination.next_cursor; });

    const reject = async (key: string, query: string, hint: RegExp) => {
      const res = await get(key, `/api/v1/events?${query}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'bad_request', message: expect.stringMatching(hint), details: [{ path: 'cursor', message: expect.any(String) }] });
    };
    const forge = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

    it('a malformed cursor', async () => {
      for (const bad of ['not a cursor!', 'abc', forge([1, 2]), forge({ v: 2, after: 1, q: 'x', t: 0, m: 0 }), forge(null), '%E2%9C%93']) {
        await reject(a.key, `session_id=sess_s1&cursor=${encodeURIComponent(bad)}`, /malformed/);
      }
      const payload = JSON.parse(Buffer.from(cursor, 'base64url').toString());
      for (const after of [-1, 1.5, '3', 2 ** 60]) await reject(a.key, `session_id=sess_s1&cursor=${forge({ ...payload, after })}`, /malformed/);
    });

    it('a cursor from a query with other filters', async () => {
      await reject(a.key, `session_id=sess_s2&cursor=${cursor}`, /different query/);
      await reject(a.key, `cursor=${cursor}`, /different query/);
      await reject(a.key, `session_id=sess_s1&action=user.login&cursor=${cursor}`, /different query/);
    });

    it("a cursor from another workspace's query", async () => {
      await reject(b.key, `session_id=sess_s1&cursor=${cursor}`, /different query/);
    });

    it('accepts the same filters written differently (a normalised timestamp)', async () => {
      const first = await get(a.key, '/api/v1/events?from=2000-01-01T00:00:00Z&limit=1');
      const next = await get(a.key, `/api/v1/events?from=${encodeURIComponent('2000-01-01T01:00:00.000+01:00')}&cursor=${first.body.pagination.next_cursor}`);
      expect(next.status).toBe(200);
      expect(ids(next.body)[0]).toBe(a.ids[1]);
    });
  });
});

describe('GET /api/v1/events: targets and totals (event_targets, event_counts)', () => {
  // Several targets, two of one type, the same target twice, type and id on different targets,
  // a target without an id; LIKE's wildcards in actions. Appended in three batches, so counters
  // are created by one append and grown by the next.
  const BATCHES: Input[][] = [[
    /* 0 */ { actor_id: 'u1', action: 'document.moved', resource: 'document', tenant_id: 't1', targets: [{ type: 'folder', id: 'f1' }, { type: 'folder', id: 'f2' }] },
    /* 1 */ { actor_id: 'u1', action: 'document.shared', resource: 'document', tenant_id: 't1', targets: [{ type: 'user', id: 'u2' }, { type: 'user', id: 'u2', name: 'again' }] },
  ], [
    /* 2 */ { actor_id: 'u2', action: 'document.shared', resource: 'document', targets: [{ type: 'user', id: 'f1' }, { type: 'folder', id: 'u2' }] },
    /* 3 */ { actor_id: 'u2', action: 'team.created', resource: 'team', targets: [{ type: 'team' }] },
    /* 4 */ { actor_id: 'u3', action: 'doc_x.made', resource: 'document', tenant_id: 't2', targets: [] },
  ], [
    /* 5 */ { actor_id: 'u3', action: 'docXx.made', resource: 'page', tenant_id: 't2', targets: [{ type: 'folder', id: 'f1' }, { type: 'user', id: 'u1' }, { type: 'folder', id: 'f1' }] },
  ]];
  let ws: Workspace;
  beforeAll(async () => {
    const { workspaceId, key } = await ctx.workspace(['ingest', 'read']);
    const all: string[] = [];
    for (const batch of BATCHES) {
      all.push(...await ingest(key, batch));
      await eventually(async () => (await storedCount(workspaceId)) === all.length, 20_000, 'a batch to be stored');
    }
    ws = { workspaceId, key, ids: all };
  });

  /** Every page of a query through its cursors, checking the total on each. */
  async function walk(key: string, query: string, limit: number, total: number): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(key, `/api/v1/events?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect([query, res.status, res.body.pagination.total]).toEqual([query, 200, total]);
      seen.push(...ids(res.body));
      cursor = res.body.pagination.next_cursor;
    } while (cursor);
    return seen;
  }

  it.each([
    ['target_type, an event with two targets of it counted once', 'target_type=folder', [0, 2, 5]],
    ['target_type, an event with the same target twice counted once', 'target_type=user', [1, 2, 5]],
    ['target_type of a target without an id', 'target_type=team', [3]],
    ['target_type in a time range (counted from event_targets)', 'target_type=folder&from=2000-01-01T00:00:00Z', [0, 2, 5]],
    ['target_type in a time range, the same target twice', 'target_type=user&to=2999-01-01T00:00:00Z', [1, 2, 5]],
    ['target_id, whatever the type', 'target_id=u2', [1, 2]],
    ['target_id of one target, repeated in the event', 'target_id=f1', [0, 2, 5]],
    ['target_type and target_id on the same target', 'target_type=user&target_id=u2', [1]],
    ['target_type and target_id on the same target, the other way round', 'target_type=folder&target_id=u2', [2]],
    ['target_type and target_id only on different targets', 'target_type=folder&target_id=u1', []],
    ['a target type no event has', 'target_type=project', []],
    ['targets and another filter', 'target_type=folder&actor_id=u1', [0]],
    ['targets and several other filters', 'target_id=f1&action=doc*&tenant_id=t2', [5]],
    ['a counted action', 'action=document.shared', [1, 2]],
    ['a counted action prefix with _ taken literally', 'action=doc_*', [4]],
    ['a counted action prefix', 'action=doc*', [0, 1, 2, 4, 5]],
    ['a counted resource', 'resource=document', [0, 1, 2, 4]],
    ['a counted tenant', 'tenant_id=t2', [4, 5]],
    ['a counted actor', 'actor_id=u2', [2, 3]],
    ['a counted value no event has', 'resource=nothing', []],
  ])('filters and counts %s, on every page', async (_what, query, expected) => {
    const want = expected.map((i) => ws.ids[i]);
    for (const limit of [100, 2, 1]) expect(await walk(ws.key, query, limit, want.length)).toEqual(want);
  });

  it('counts a lone broad filter from its counter and a lone target filter from event_targets, every other filter from events', () => {
    const statements = (filter: EventPageRequest['filter'], counted?: EventPageRequest['counted']) =>
      eventPageStatements({ workspaceId: ws.workspaceId, filter, limit: 25, counted }) as { count: { text: string } };
    for (const filter of [{ resource: 'document' }, { action: { exact: 'a.b' } }, { action: { prefix: 'a.' } }, { tenant_id: 't' }, { actor_id: 'u' }, { target_type: 'user' }]) {
      expect([filter, statements(filter).count.text]).toEqual([filter, expect.stringContaining('FROM event_counts')]);
      // A later page counts only what arrived after the first page's count.
      expect(statements(filter, { total: 1, throughSeq: 1 }).count.text).not.toContain('event_counts');
    }
    for (const filter of [{ target_id: 'x' }, { target_type: 'user', target_id: 'x' }, { target_type: 'user', from: '2026-01-01T00:00:00.000000Z' }]) {
      expect(statements(filter).count.text).toMatch(/^SELECT count\(DISTINCT seq\) AS total, max\(seq\) AS through_seq FROM event_targets WHERE/);
    }
    for (const filter of [{ resource: 'document', tenant_id: 't' }, { resource: 'document', from: '2026-01-01T00:00:00.000000Z' }, { session_id: 's' }, { resource_id: 'r' }, { target_type: 'user', actor_id: 'u' }]) {
      expect(statements(filter).count.text).not.toContain('event_counts');
    }
  });

  it('keeps pages and totals exact while matching events arrive between pages', async () => {
    const { workspaceId, key } = await ctx.workspace(['ingest', 'read']);
    const event = (i: number, types: string[]) => ({ actor_id: 'u', action: 'page.viewed', resource: i % 2 ? 'page' : 'document', metadata: { i },
      targets: types.map((type, t) => ({ type, id: `${type}_${i}_${t}` })) });
    let stored = 0;
    const add = async (events: Input[]) => { await ingest(key, events); stored += events.length; await eventually(async () => (await storedCount(workspaceId)) === stored); };
    await add(Array.from({ length: 6 }, (_, i) => event(i, i % 3 === 0 ? ['folder', 'folder'] : ['user'])));

    for (const query of ['target_type=folder', 'resource=document', 'target_id=folder_100_0']) {
      const seen: string[] = [];
      let page = await get(key, `/api/v1/events?${query}&limit=1`);
      seen.push(...ids(page.body));
      let n = 0;
      while (page.body.pagination.next_cursor) {
        if (n < 2) {
          // Matching and other events arrive between two pages, one with two folder targets.
          await add([event(100 + n, ['folder', 'user', 'folder']), event(101 + n, ['user'])]);
          n++;
        }
        page = await get(key, `/api/v1/events?${query}&limit=1&cursor=${page.body.pagination.next_cursor}`);
        seen.push(...ids(page.body));
      }
      const { rows } = await ctx.pool.query<{ id: string }>(
        `SELECT id FROM events WHERE workspace_id = $1 AND ${query.startsWith('resource') ? "resource = 'document'"
          : query.startsWith('target_type') ? `targets @> '[{"type": "folder"}]'` : `targets @> '[{"id": "folder_100_0"}]'`} ORDER BY seq`, [workspaceId]);
      expect([query, seen]).toEqual([query, rows.map((r) => r.id)]);
      expect([query, page.body.pagination.total]).toEqual([query, rows.length]);
      // A new first page counts the same.
      expect([query, (await get(key, `/api/v1/events?${query}`)).body.pagination.total]).toEqual([query, rows.length]);
    }
  });

  it('agrees with counting the events themselves for every counted value', async () => {
    const { rows } = await ctx.pool.query<{ name: string; value: string; events: number; through_seq: number; truth: number; truth_seq: number }>(
      `SELECT c.name, c.value, c.events, c.through_seq, t.n AS truth, t.last AS truth_seq FROM event_counts c
         JOIN LATERAL (SELECT count(*) AS n, max(seq) AS last FROM events e WHERE e.workspace_id = c.workspace_id AND CASE c.name
           WHEN 'action' THEN e.action = c.value WHEN 'resource' THEN e.resource = c.value WHEN 'tenant_id' THEN e.tenant_id = c.value
           WHEN 'actor_id' THEN e.actor_id = c.value WHEN 'target_type' THEN e.targets @> jsonb_build_array(jsonb_build_object('type', c.value)) END) t ON true
        WHERE c.workspace_id = ANY($1::uuid[])`, [[ws.workspaceId, a.workspaceId]]);
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) expect(row).toEqual({ ...row, events: row.truth, through_seq: row.truth_seq });
  });

  it('keeps the derived rows append-only, as the events are', async () => {
    const refused = /append-only/;
    await expect(ctx.pool.query('UPDATE event_targets SET type = $2 WHERE workspace_id = $1', [ws.workspaceId, 'x'])).rejects.toThrow(refused);
    await expect(ctx.pool.query('DELETE FROM event_targets WHERE workspace_id = $1', [ws.workspaceId])).rejects.toThrow(refused);
    await expect(ctx.pool.query('UPDATE event_counts SET events = events - 1 WHERE workspace_id = $1', [ws.workspaceId])).rejects.toThrow(refused);
    await expect(ctx.pool.query('UPDATE event_counts SET value = value || $2 WHERE workspace_id = $1', [ws.workspaceId, 'x'])).rejects.toThrow(refused);
    await expect(ctx.pool.query('DELETE FROM event_counts WHERE workspace_id = $1', [ws.workspaceId])).rejects.toThrow(refused);
    await expect(ctx.pool.query('TRUNCATE event_targets, event_counts')).rejects.toThrow(refused);
    expect((await get(ws.key, '/api/v1/events?target_type=folder')).body.pagination.total).toBe(3);
  });
});

describe('GET /api/v1/events: bad input', () => {
  it.each([
    ['an unknown parameter', 'actor=user_sarah', 'actor'],
    ['a repeated parameter', 'actor_id=a&actor_id=b', undefined],
    ['an empty filter value', 'session_id=', 'session_id'],
    ['a filter value longer than any stored value', `actor_id=${'x'.repeat(256)}`, 'actor_id'],
    ['a NUL character', 'actor_id=a%00b', 'actor_id'],
    ['a * inside action', 'action=doc*.created', 'action'],
    ['two * in action', 'action=document.**', 'action'],
    ['a malformed from', 'from=yesterday', 'from'],
    ['a from without time zone', 'from=2026-03-01T00:00:00', 'from'],
    ['an impossible date', 'to=2026-02-30T00:00:00Z', 'to'],
    ['seconds past 59', 'from=2026-03-01T12:23:99Z', 'from'],
    ['minutes past 59', 'to=2026-03-01T12:60:00Z', 'to'],
    ['a __proto__ parameter', '__proto__=x', '__proto__'],
    ['an encoded __proto__ parameter', '%5F%5Fproto%5F%5F=x', '__proto__'],
    ['a value that is not UTF-8 once decoded', 'actor_id=%ED%A0%80', 'actor_id'],
    ['a truncated UTF-8 sequence', 'session_id=ab%E0', 'session_id'],
    ['from after to', 'from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
    ['limit 0', 'limit=0', 'limit'],
    ['limit over 100', 'limit=101', 'limit'],
    ['a non-numeric limit', 'limit=ten', 'limit'],
    ['a fractional limit', 'limit=2.5', 'limit'],
    ['a negative limit', 'limit=-5', 'limit'],
    ['an empty search', 'search=', 'search'],
    ['a search over 200 characters', `search=${'a'.repeat(201)}`, 'search'],
    ['a search with a control character', 'search=abc%0Adef', 'search'],
    ['an empty cursor', 'cursor=', 'cursor'],
  ])('400 for %s', async (_what, query, field) => {
    const res = await get(a.key, `/api/v1/events?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request', message: expect.stringContaining('Query parameter') });
    if (field) expect(res.body.details[0].path).toBe(field);
  });

  it('answers an unknown path or method in the contract\'s error format', async () => {
    const unknown = await ctx.api(a.key, '/api/v1/nothing-here');
    expect(unknown).toMatchObject({ status: 404, body: { error: 'not_found', message: 'No route for GET /api/v1/nothing-here.' } });
    const wrongMethod = await ctx.api(a.key, '/api/v1/events/7b3f8c2a-1d4e-4f6a-9b8c-2e5d7f1a3c9b', { method: 'DELETE' });
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: 'method_not_allowed', message: expect.stringContaining('takes HEAD, GET') } });
    expect(wrongMethod.headers.get('allow')).toBe('HEAD, GET');
    const unimplemented = await ctx.api(a.key, '/api/v1/events', { method: 'PROPFIND' });
    expect(unimplemented).toMatchObject({ status: 501, body: { error: 'not_implemented' } });
  });

  it('serves a 200-character search', async () => {
    const res = await get(a.key, `/api/v1/events?search=${'ab1'.repeat(66)}xy`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
  });
});

describe('GET /api/v1/events: permissions', () => {
  it('403 for an ingest-only key, 401 without a valid key', async () => {
    const { key } = await ctx.workspace(['ingest']);
    const res = await get(key, '/api/v1/events');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect((await get(key, `/api/v1/events/${a.ids[0]}`)).status).toBe(403);
    expect((await get('stk_nope', '/api/v1/events')).status).toBe(401);
  });

  it('checks a key seen before inside the statement that reads, and refuses it there once revoked', async () => {
    const lookups = jest.spyOn(ctx.pool, 'query');
    const lookedUp = () => lookups.mock.calls.filter(([sql]) => String(sql).includes('FROM api_keys WHERE prefix')).length;
    try {
      const first = await get(a.key, '/api/v1/events?limit=2');
      for (const path of ['/api/v1/events?limit=2', '/api/v1/events?search=report', '/api/v1/events?action=document.*',
        `/api/v1/events?limit=2&cursor=${first.body.pagination.next_cursor}`, `/api/v1/events/${a.ids[4]}`]) {
        const { key, id } = await createApiKey(ctx.pool, { workspaceId: a.workspaceId, name: 'reader', permissions: ['read'] });
        expect((await get(key, '/api/v1/events?limit=1')).status).toBe(200); // looked up, then remembered
        lookups.mockClear();
        expect((await get(key, path)).status).toBe(200);
        expect([path, lookedUp()]).toEqual([path, 0]);
        await ctx.pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
        lookups.mockClear();
        const refused = await get(key, path);
        expect([path, refused.status, refused.body.error, refused.body.data, lookedUp()]).toEqual([path, 401, 'unauthenticated', undefined, 0]);
        expect((await get(key, path)).status).toBe(401); // forgotten: looked up again, and still revoked
      }
    } finally {
      lookups.mockRestore();
    }
  });

  it('serves a read-only key and an admin key', async () => {
    for (const permissions of [['read'], ['admin']] as const) {
      const { key } = await ctx.workspace([...permissions]);
      expect((await get(key, '/api/v1/events')).status).toBe(200);
    }
  });
});

describe('GET /api/v1/events/{id}', () => {
  it('returns the event in the same shape as the list', async () => {
    const list = await get(a.key, '/api/v1/events?limit=5');
    const res = await get(a.key, `/api/v1/events/${a.ids[4]}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: list.body.data[4] });
    expect((await get(a.key, `/api/v1/events/${a.ids[4]!.toUpperCase()}`)).body).toEqual({ data: list.body.data[4] });
  });

  it("answers 404 for an unknown id, a malformed id and another workspace's event", async () => {
    for (const id of [crypto.randomUUID(), 'not-a-uuid', b.ids[0], "1' OR '1'='1"]) {
      const res = await get(a.key, `/api/v1/events/${encodeURIComponent(id!)}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('not_found');
      expect(res.body.status).toBeUndefined();
    }
  });

  it('tells an accepted, still queued event apart from one that never existed', async () => {
    const { workspaceId, key } = await ctx.workspace(['ingest', 'read']);
    await ctx.stopWorker();
    let id: string;
    try {
      [id] = (await ingest(key, [{ actor_id: 'u', action: 'a.b' }])) as [string];
      const queued = await get(key, `/api/v1/events/${id}`);
      expect(queued.status).toBe(404);
      expect(queued.body).toEqual({ error: 'not_found', status: 'queued', message: expect.stringContaining('still queued') });
      const unknown = await get(key, `/api/v1/events/${crypto.randomUUID()}`);
      expect(unknown.body.status).toBeUndefined();
      expect(unknown.body.message).not.toContain('queued');
    } finally {
      await ctx.startWorker();
    }
    await eventually(async () => (await storedCount(workspaceId)) === 1);
    const stored = await get(key, `/api/v1/events/${id}`);
    expect(stored.status).toBe(200);
    expect(stored.body.data.id).toBe(id);
  });
});
