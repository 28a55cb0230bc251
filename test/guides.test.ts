/**
 * The two support guides of the seeds (session debugging for Sarah, ticket #4821 for Lisa), run
 * with their own requests against data shaped like theirs: what the guides show is what a
 * support engineer must see here.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext(); });
afterAll(async () => { await ctx.close(); });

type Input = Record<string, unknown>;

async function ingestInOrder(key: string, workspaceId: string, events: Input[]): Promise<string[]> {
  // One batch: its events enter the chain in input order.
  const res = await ctx.api(key, '/api/v1/events/batch', { body: { events } });
  expect(res.status).toBe(202);
  await eventually(async () => {
    const { rows } = await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [workspaceId]);
    return rows[0]!.n === events.length;
  });
  return res.body.events.map((r: { id: string }) => r.id);
}

describe('guide: debugging Sarah\'s session ("where did my document go?")', () => {
  const SARAH = { actor_id: 'user_2hG9kLm', actor_name: 'Sarah Chen', actor_type: 'user', session_id: 'sess_4kN8pLm', tenant_id: 'org_7rT2xBc', ip_address: '50.0.80.10' };
  const doc = { resource: 'document', resource_id: 'doc_8nXpQr3', resource_name: 'Q4 Report.pdf' };
  const reports = { type: 'folder', id: 'folder_3mK9pLq', name: 'Reports' };
  const archive = { type: 'folder', id: 'folder_9xY2zAb', name: 'Archive' };
  let key: string;

  beforeAll(async () => {
    const ws = await ctx.workspace(['ingest', 'read']);
    key = ws.key;
    await ingestInOrder(key, ws.workspaceId, [
      // Someone else in the same workspace, at the same time: must not show up in Sarah's session.
      { actor_id: 'user_9pQ', actor_name: 'Omar Haddad', action: 'user.login', session_id: 'sess_other', occurred_at: '2026-03-26T08:59:00.000000Z' },
      { ...SARAH, action: 'user.login', resource: 'user', resource_id: 'user_2hG9kLm', occurred_at: '2026-03-26T09:00:12.000000Z' },
      { actor_id: 'user_9pQ', actor_name: 'Omar Haddad', action: 'document.viewed', ...doc, session_id: 'sess_other', occurred_at: '2026-03-26T09:01:00.000000Z' },
      { ...SARAH, action: 'document.uploaded', ...doc, targets: [reports], occurred_at: '2026-03-26T09:05:34.000000Z' },
      { ...SARAH, action: 'document.moved', ...doc, targets: [reports, archive], occurred_at: '2026-03-26T09:06:01.000000Z' },
    ]);
  });

  it('step 2/3: the session query returns the exact timeline the guide shows', async () => {
    const res = await ctx.api(key, '/api/v1/events?session_id=sess_4kN8pLm&limit=100');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject([
      { action: 'user.login', occurred_at: '2026-03-26T09:00:12.000000Z' },
      { action: 'document.uploaded', resource: { type: 'document', id: 'doc_8nXpQr3', name: 'Q4 Report.pdf' },
        targets: [{ type: 'folder', id: 'folder_3mK9pLq', name: 'Reports' }], occurred_at: '2026-03-26T09:05:34.000000Z' },
      { action: 'document.moved', resource: { type: 'document', id: 'doc_8nXpQr3', name: 'Q4 Report.pdf' },
        targets: [{ type: 'folder', id: 'folder_3mK9pLq', name: 'Reports' }, { type: 'folder', id: 'folder_9xY2zAb', name: 'Archive' }],
        occurred_at: '2026-03-26T09:06:01.000000Z' },
    ]);
    expect(res.body.pagination).toEqual({ has_more: false, next_cursor: null, total: 3 });
  });

  it('step 4: the move came 27 seconds after the upload, from Reports to Archive', async () => {
    const { data } = (await ctx.api(key, '/api/v1/events?session_id=sess_4kN8pLm&limit=100')).body;
    const [, uploaded, moved] = data;
    expect((Date.parse(moved.occurred_at) - Date.parse(uploaded.occurred_at)) / 1000).toBe(27);
    expect(moved.targets.map((t: { name: string }) => t.name)).toEqual(['Reports', 'Archive']);
  });

  it('filter by actor within a session', async () => {
    const res = await ctx.api(key, '/api/v1/events?session_id=sess_4kN8pLm&actor_id=user_2hG9kLm');
    expect(res.body.data.map((e: { action: string }) => e.action)).toEqual(['user.login', 'document.uploaded', 'document.moved']);
  });

  it('search for specific actions (document.*)', async () => {
    const res = await ctx.api(key, '/api/v1/events?session_id=sess_4kN8pLm&action=document.*');
    expect(res.body.data.map((e: { action: string }) => e.action)).toEqual(['document.uploaded', 'document.moved']);
  });

  it('check geolocation: ip_country and ip_city on each event of the session', async () => {
    const res = await ctx.api(key, '/api/v1/events?session_id=sess_4kN8pLm');
    expect(res.body.data).toHaveLength(3);
    for (const event of res.body.data) expect(event).toMatchObject({ ip_address: '50.0.80.10', ip_country: 'US', ip_city: 'San Francisco' });
  });
});

describe('guide: ticket #4821, Lisa\'s vanished Q3 Budget Report', () => {
  const LISA = { actor_id: 'user_4f2a8c', actor_name: 'Lisa Wang', actor_type: 'user', tenant_id: 'org_finance', ip_address: '50.35.0.10', user_agent: 'Mozilla/5.0' };
  const budget = { resource: 'document', resource_id: 'doc_8f3a2c1d', resource_name: 'Q3 Budget Report' };
  const finance = { type: 'folder', id: 'folder_fin', name: 'Finance Team' };
  let key: string;

  beforeAll(async () => {
    const ws = await ctx.workspace(['ingest', 'read']);
    key = ws.key;
    const at = (time: string) => ({ occurred_at: `2026-03-${time}Z` });
    await ingestInOrder(key, ws.workspaceId, [
      { ...LISA, session_id: 'sess_1c6d8e3f', action: 'user.login', ...at('25T16:02:00.000000') },
      { ...LISA, session_id: 'sess_7e4b9f2a', action: 'user.login', ...at('26T11:30:00.000000') },
      { ...LISA, session_id: 'sess_7e4b9f2a', action: 'document.viewed', ...budget, metadata: { document_id: 'doc_8f3a2c1d' }, ...at('26T11:31:00.000000') },
      { ...LISA, session_id: 'sess_a8f3c2d1', action: 'user.login', ...at('27T09:40:02.000000') },
      { ...LISA, session_id: 'sess_a8f3c2d1', action: 'document.viewed', ...budget, metadata: { document_id: 'doc_8f3a2c1d' }, ...at('27T09:41:15.000000') },
      { ...LISA, session_id: 'sess_a8f3c2d1', action: 'document.edited', ...budget, metadata: { document_id: 'doc_8f3a2c1d' }, ...at('27T09:47:40.000000') },
      { ...LISA, session_id: 'sess_a8f3c2d1', action: 'folder.opened', resource: 'folder', resource_id: 'folder_fin', resource_name: 'Finance Team', ...at('27T09:52:30.000000') },
      { ...LISA, session_id: 'sess_a8f3c2d1', action: 'document.moved_to_trash', ...budget, targets: [finance],
        metadata: { document_id: 'doc_8f3a2c1d', from_folder: 'Finance Team' }, ...at('27T09:53:11.000000') },
      { ...LISA, session_id: 'sess_a8f3c2d1', action: 'trash.emptied', resource: 'trash', resource_id: 'trash_user_4f2a8c',
        metadata: { items_deleted: 1, document_ids: ['doc_8f3a2c1d'] }, ...at('27T09:53:18.000000') },
      { ...LISA, session_id: 'sess_a8f3c2d1', action: 'search.performed', metadata: { query: 'Q3 Budget Report', results: 0 }, ...at('27T09:55:20.000000') },
    ]);
  });

  it('finds her recent sessions from her actor id (get_events(actor_id=..., limit=50))', async () => {
    const res = await ctx.api(key, '/api/v1/events?actor_id=user_4f2a8c&limit=50');
    expect(res.status).toBe(200);
    const sessions = new Set(res.body.data.filter((e: { session_id: string | null }) => e.session_id).map((e: { session_id: string }) => e.session_id));
    expect([...sessions].sort()).toEqual(['sess_1c6d8e3f', 'sess_7e4b9f2a', 'sess_a8f3c2d1']);
  });

  it('the session timeline shows the move to trash at 09:53:11 and the emptied trash 7 seconds later', async () => {
    const res = await ctx.api(key, '/api/v1/events?session_id=sess_a8f3c2d1&limit=50');
    const sessionEvents = res.body;
    expect(sessionEvents.data.map((e: { action: string }) => e.action)).toEqual(
      ['user.login', 'document.viewed', 'document.edited', 'folder.opened', 'document.moved_to_trash', 'trash.emptied', 'search.performed']);
    // The guide's Python: trash_events = [e for e in session_events["data"] if e["action"] in (...)]
    const trashEvents = sessionEvents.data.filter((e: { action: string }) => ['document.moved_to_trash', 'trash.emptied'].includes(e.action));
    expect(trashEvents).toHaveLength(2);
    for (const event of trashEvents) {
      // Every field the guide's snippet reads is at the top level of the event.
      expect(event).toMatchObject({ ip_address: '50.35.0.10', ip_city: 'Portland', ip_country: 'US', metadata: expect.any(Object) });
    }
    expect(trashEvents.map((e: { occurred_at: string }) => e.occurred_at)).toEqual(['2026-03-27T09:53:11.000000Z', '2026-03-27T09:53:18.000000Z']);
    expect(trashEvents[0].resource.name).toBe('Q3 Budget Report');
    expect(trashEvents[0].targets).toEqual([{ type: 'folder', id: 'folder_fin', name: 'Finance Team' }]);
    expect(trashEvents[1].metadata).toEqual({ items_deleted: 1, document_ids: ['doc_8f3a2c1d'] });
    const searched = sessionEvents.data.at(-1);
    expect((Date.parse(searched.occurred_at) - Date.parse(trashEvents[1].occurred_at)) / 1000).toBeGreaterThanOrEqual(120);
  });

  it('a search for the document finds its whole history across her sessions', async () => {
    const res = await ctx.api(key, '/api/v1/events?search=q3%20budget');
    expect(res.body.data.map((e: { action: string }) => e.action)).toEqual(
      ['document.viewed', 'document.viewed', 'document.edited', 'document.moved_to_trash', 'search.performed']);
  });
});
