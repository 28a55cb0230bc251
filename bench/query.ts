/**
 * `node bench/mod.ts query`: GET /api/v1/events on a million events (seeded by query-seed.ts).
 *
 * Measures p50/p95 latency over HTTP for each filter kind, the search, a deep page reached
 * through 999 cursors and `total` on broad filters, each beside exactly the same statements run
 * as bare SQL through pg in the same run, and prints the plan (indexes used, execution time) that
 * PostgreSQL chose for each. A second baseline, in the same run, serves the very same pages over
 * bare node:http: what HTTP and JSON alone add to the SQL, before any framework, key or
 * validation. The figures and plans are written up in docs/api/events-query.md.
 */
import http from 'node:http';
import type pg from 'pg';
import { decodeCursor, queryFingerprint } from '../api/events/cursor.ts';
import { presentEvent, presentPage } from '../api/events/presenter.ts';
import { eventListQuery } from '../api/events/query-schema.ts';
import { formatTimestamp } from '../core/mod.ts';
import { eventPageStatements, findEvent, queryEvents, runEventPage, type EventPageRequest, type Statement } from '../store/mod.ts';
import { PERSON_NAMES, seedEvents } from './query-seed.ts';
import { percentile, report, startBenchStack, type BenchStack } from './support.ts';

// ---------------------------------------------------------------------------------------------
// The benchmark

const EVENTS = Number(process.env.BENCH_QUERY_EVENTS ?? 1_000_000);
const WORKSPACES = 100;
const WARMUP = 5;
const DAY = 86_400_000_000n;

type Params = Record<string, string>;
/** Latencies of the API, of the same pages over bare node:http, and of their statements bare through pg. */
interface Timing { api: number[]; http: number[]; sql: number[]; total: number }

/** Whose events are read, with which key. */
interface Reader { workspaceId: string; keyId: string }

/**
 * The store request the API builds from these query parameters: same schema, same cursor rules,
 * and the key checked in the same statements, as the API does for a key it has seen before.
 */
function requestOf({ workspaceId, keyId }: Reader, params: Params): EventPageRequest {
  const parsed = eventListQuery.safeParse(params);
  if (!parsed.success) throw new Error(`bad benchmark query ${JSON.stringify(params)}: ${parsed.error.message}`);
  const { cursor, limit, ...filter } = parsed.data;
  const position = cursor === undefined ? undefined : decodeCursor(cursor, queryFingerprint(workspaceId, filter));
  return { workspaceId, filter, limit, afterSeq: position?.afterSeq, counted: position?.counted, keyId };
}

// A lean keep-alive client: undici's fetch adds ~0.6 ms a request on this machine, which would be
// measuring the client library rather than the API.
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** GET with a bearer key; resolves when the whole body has arrived and is parsed. */
async function httpGet(url: string, key: string): Promise<{ status: number; body: unknown }> {
  return await new Promise((resolve, reject) => {
    http.get(url, { agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { try { resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }); } catch (e) { reject(e); } });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** One request over HTTP (to the API, or the bare server), as a client sees it: until the JSON body is parsed. */
async function overHttp(baseUrl: string, key: string, params: Params): Promise<{ ms: number; body: { data: Array<{ id: string }>; pagination: { total: number; next_cursor: string | null } } }> {
  const started = performance.now();
  const res = await httpGet(`${baseUrl}/api/v1/events?${new URLSearchParams(params)}`, key);
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`GET /api/v1/events?${new URLSearchParams(params)} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { ms, body: res.body as never };
}

/** The same statements the API runs for `request`, bare through pg, run the way it runs them. */
async function overSql(pool: pg.Pool, request: EventPageRequest): Promise<{ ms: number; ids: string[]; total: number }> {
  const started = performance.now();
  const { rows, counted } = await runEventPage(pool, request);
  const ms = performance.now() - started;
  return { ms, ids: rows.slice(0, request.limit).map((r) => r.id), total: (request.counted?.total ?? 0) + counted.total };
}

/**
 * The HTTP floor: the API's pages, built by the same store and presenter calls from the same
 * statements (key check included), served by bare node:http with no framework, no key handling
 * and no more parsing than building the store request. Measured beside the API, it shows what
 * HTTP and JSON alone add to the SQL, and so what the API's own code adds.
 */
async function startBareHttp(pool: pg.Pool, reader: Reader): Promise<{ url: string; close(): Promise<void> }> {
  const answer = async (url: URL): Promise<string> => {
    const byId = /^\/api\/v1\/events\/([^/]+)$/.exec(url.pathname);
    if (byId) {
      const { event } = await findEvent(pool, reader.workspaceId, byId[1]!, reader.keyId);
      if (!event) throw new Error(`no event ${byId[1]}`);
      return JSON.stringify({ data: presentEvent(event) });
    }
    const request = requestOf(reader, Object.fromEntries(url.searchParams));
    const page = await queryEvents(pool, request);
    return JSON.stringify(presentPage(page, queryFingerprint(reader.workspaceId, request.filter)));
  };
  const server = http.createServer((req, res) => {
    answer(new URL(req.url!, 'http://bare')).then((body) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, (error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * Runs the API, the bare HTTP server and the bare SQL in turn (rotating which goes first) over
 * `iterations` parameter sets, and checks on the way that all three return the same events.
 */
async function measure(stack: BenchStack, bareUrl: string, key: string, reader: Reader, paramsOf: (i: number) => Params, iterations: number): Promise<Timing> {
  const timing: Timing = { api: [], http: [], sql: [], total: 0 };
  for (let i = -WARMUP; i < iterations; i++) {
    const params = paramsOf(i + WARMUP);
    const request = requestOf(reader, params);
    const runs = [
      async () => ({ side: 'api' as const, ...await overHttp(stack.apiUrl, key, params) }),
      async () => ({ side: 'http' as const, ...await overHttp(bareUrl, key, params) }),
      async () => { const { ms, ids } = await overSql(stack.pool, request); return { side: 'sql' as const, ms, ids }; },
    ];
    const results: Array<Awaited<ReturnType<(typeof runs)[number]>>> = [];
    for (let k = 0; k < runs.length; k++) results.push(await runs[(k + i + WARMUP) % runs.length]!());
    const idsOf = (r: (typeof results)[number]) => ('ids' in r ? r.ids : r.body.data.map((e) => e.id)).join();
    if (new Set(results.map(idsOf)).size !== 1) throw new Error(`API, bare HTTP and SQL disagree on the events for ${JSON.stringify(params)}`);
    if (i < 0) continue;
    for (const r of results) {
      timing[r.side].push(r.ms);
      if (r.side === 'api') timing.total = r.body.pagination.total;
    }
  }
  return timing;
}

interface PlanNode { 'Node Type': string; 'Index Name'?: string; Plans?: PlanNode[] }

/** The access paths PostgreSQL chose (scan type and index) and its execution time. */
async function planOf(pool: pg.Pool, statement: Statement): Promise<string> {
  const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`, statement.values);
  const [{ Plan, 'Execution Time': ms }] = rows[0]!['QUERY PLAN'] as [{ Plan: PlanNode; 'Execution Time': number }];
  const scans: string[] = [];
  const walk = (node: PlanNode) => {
    if (/Scan/.test(node['Node Type']) && !/Bitmap Heap/.test(node['Node Type'])) scans.push(node['Index Name'] ? `${node['Node Type']} ${node['Index Name']}` : node['Node Type']);
    if (/Sort/.test(node['Node Type'])) scans.push('Sort');
    node.Plans?.forEach(walk);
  };
  walk(Plan);
  return `${scans.join(' + ')} (${ms.toFixed(2)} ms)`;
}

/** One case's percentiles, in ms: the API, the bare HTTP server and the bare SQL. */
interface Figures { name: string; a50: number; a95: number; h50: number; h95: number; s50: number; s95: number }

/** Prints one case: its figures, their ratios to the SQL, and whether it met its targets. */
function line(name: string, timing: Timing, targetMs: number): Figures & { ok: boolean } {
  const [api, http, sql] = [timing.api, timing.http, timing.sql].map((v) => [...v].sort((x, y) => x - y)) as [number[], number[], number[]];
  const f = { name, a50: percentile(api, 50), a95: percentile(api, 95), h50: percentile(http, 50), h95: percentile(http, 95), s50: percentile(sql, 50), s95: percentile(sql, 95) };
  const ok = f.a95 < targetMs && f.a95 <= 1.5 * f.s95;
  report(name, {
    total: timing.total, api_p50: f.a50, api_p95: f.a95, http_p50: f.h50, http_p95: f.h95, sql_p50: f.s50, sql_p95: f.s95,
    'ratio_p50': f.a50 / f.s50, 'ratio_p95': f.a95 / f.s95, 'http/sql_p50': f.h50 / f.s50, 'http/sql_p95': f.h95 / f.s95,
    target: `p95<${targetMs}ms`, met: f.a95 < targetMs ? 'yes' : 'NO', '≤1.5x': f.a95 <= 1.5 * f.s95 ? 'yes' : 'NO',
  });
  return { ...f, ok };
}

/** The spread of `ratio` over `cases`, as "min–max". */
function spread(cases: Figures[], ratio: (f: Figures) => number): string {
  const values = cases.map(ratio);
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}×`;
}

export default async function run(): Promise<void> {
  const stack = await startBenchStack({ worker: false });
  let bare: Awaited<ReturnType<typeof startBareHttp>> | undefined;
  try {
    // One key per workspace; the first workspace is the largest, and the one queried.
    const workspaces: Array<{ workspaceId: string; key: string; keyId: string }> = [];
    for (let i = 0; i < WORKSPACES; i++) workspaces.push(await stack.workspace(['read']));

    // Bulk loading into indexed tables is slow; build the query indexes once the rows are in,
    // exactly as the migrations define them.
    // (event_targets and event_search are filled by the insert triggers of migrations 004 and 007,
    // their indexes built the same way.)
    const { rows: indexes } = await stack.pool.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('events', 'event_targets', 'event_search') AND indexname NOT IN ('events_pkey', 'events_id')");
    for (const index of indexes) await stack.pool.query(`DROP INDEX ${index.indexname}`);
    let started = performance.now();
    const now = BigInt(Date.now()) * 1000n;
    const sample = await seedEvents(stack.pool, {
      events: EVENTS, workspaceIds: workspaces.map((w) => w.workspaceId), startMicros: now - 90n * DAY, endMicros: now,
      onProgress: (n) => { if (n % 200_000 === 0) console.log(`  seeded ${n} events`); },
    });
    const seedSeconds = (performance.now() - started) / 1000;
    console.log(`seeded ${EVENTS} events into ${WORKSPACES} workspaces in ${seedSeconds.toFixed(0)} s (${Math.round(EVENTS / seedSeconds)} rows/s; hashes: random 32 bytes, chained, not computed)`);
    for (const index of indexes) {
      started = performance.now();
      await stack.pool.query(index.indexdef);
      console.log(`  built ${index.indexname} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    await stack.pool.query('VACUUM ANALYZE events, event_targets, event_counts, event_search');
    const { rows: sizes } = await stack.pool.query<{ name: string; size: string }>(
      `SELECT c.relname AS name, pg_size_pretty(pg_relation_size(c.oid)) AS size FROM pg_class c
        WHERE c.relname IN ('events', 'event_targets', 'event_counts', 'event_search')
           OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN ('events'::regclass, 'event_targets'::regclass, 'event_counts'::regclass, 'event_search'::regclass))
        ORDER BY pg_relation_size(c.oid) DESC`);
    console.log(`sizes: ${sizes.map((s) => `${s.name} ${s.size}`).join(', ')}`);
    console.log(`queried workspace: ${sample.workspaceEvents} events (the largest of ${WORKSPACES}); values cycle over ${sample.sessions.length} sampled sessions, actors, tenants, resources`);

    const { workspaceId, key, keyId } = workspaces[0]!;
    const reader = { workspaceId, keyId };
    bare = await startBareHttp(stack.pool, reader);
    const bareUrl = bare.url;
    const cycle = <T>(values: readonly T[]) => (i: number) => values[i % values.length]!;
    const day = (i: number) => {
      const start = now - 89n * DAY + BigInt((i * 7919) % 88) * DAY;
      return { from: formatTimestamp(start), to: formatTimestamp(start + DAY - 1n) };
    };
    const names = PERSON_NAMES;
    const cases: Array<{ name: string; params: (i: number) => Params; iterations?: number; target?: number }> = [
      { name: 'session_id', params: (i) => ({ session_id: cycle(sample.sessions)(i) }) },
      { name: 'session_id, limit=100 (the guide)', params: (i) => ({ session_id: cycle(sample.sessions)(i), limit: '100' }) },
      { name: 'actor_id', params: (i) => ({ actor_id: cycle(sample.actors)(i) }) },
      { name: 'tenant_id', params: (i) => ({ tenant_id: cycle(sample.tenants)(i) }) },
      { name: 'resource_id', params: (i) => ({ resource_id: cycle(sample.resourceIds)(i) }) },
      { name: 'resource (type)', params: (i) => ({ resource: cycle(['invoice', 'folder', 'project', 'comment', 'trash', 'user'])(i) }) },
      { name: 'action (exact)', params: (i) => ({ action: cycle(['document.moved', 'invoice.paid', 'comment.created', 'user.login', 'document.shared', 'trash.emptied'])(i) }) },
      { name: 'action (prefix.*)', params: (i) => ({ action: cycle(['invoice.*', 'folder.*', 'project.*', 'comment.*', 'trash.*', 'user.*'])(i) }) },
      { name: 'target_id', params: (i) => ({ target_id: cycle(sample.targetIds)(i) }) },
      { name: 'target_type + target_id', params: (i) => ({ target_type: 'folder', target_id: cycle(sample.targetIds)(i) }) },
      { name: 'target_type (user: ~5% of events)', params: () => ({ target_type: 'user' }), iterations: 60 },
      { name: 'target_type (folder: ~15%) + from (last 30 days)', params: () => ({ target_type: 'folder', from: formatTimestamp(now - 30n * DAY) }), iterations: 60 },
      { name: 'from/to (one day)', params: (i) => day(i) },
      { name: 'session_id + action=document.*', params: (i) => ({ session_id: cycle(sample.sessions)(i), action: 'document.*' }) },
      { name: 'tenant_id + from/to (one day)', params: (i) => ({ tenant_id: cycle(sample.tenants)(i), ...day(i) }) },
      { name: 'actor_id + resource + from', params: (i) => ({ actor_id: cycle(sample.actors)(i), resource: 'document', from: day(i).from }) },
      { name: 'search: a document name', params: (i) => ({ search: cycle(sample.resourceNames)(i) }), iterations: 100, target: 100 },
      { name: 'search: a person\'s name', params: (i) => ({ search: cycle(names)(i) }), iterations: 100, target: 100 },
      { name: 'search: an invoice number', params: (i) => ({ search: `INV-2026-${String((i * 37) % 5000).padStart(6, '0')}` }), iterations: 100, target: 100 },
      // Common in other workspaces, absent from this one: table-wide statistics call it common.
      { name: 'search: a term only other workspaces use', params: (i) => ({ search: `doc_${1 + (i % 9)}_` }), iterations: 60, target: 100 },
      { name: 'search: a common word (budget, ~5%)', params: (i) => ({ search: cycle(['budget', 'forecast', 'roadmap'])(i) }), iterations: 60, target: 100 },
      { name: 'search within a session', params: (i) => ({ session_id: cycle(sample.sessions)(i), search: 'report' }), iterations: 100, target: 100 },
    ];

    // What every request pays before any query: HTTP on loopback, the key lookup, an error body.
    const floor: number[] = [];
    for (let i = -WARMUP; i < 200; i++) {
      const t = performance.now();
      await httpGet(`${stack.apiUrl}/api/v1/events?limit=0`, key);
      if (i >= 0) floor.push(performance.now() - t);
    }
    floor.sort((x, y) => x - y);
    console.log(`\nfloor of every request (HTTP + API key lookup, answered 400 before any event query): p50=${percentile(floor, 50).toFixed(2)} ms  p95=${percentile(floor, 95).toFixed(2)} ms`);

    console.log(`\n${'query (largest workspace)'.padEnd(44)} times in ms; the API over HTTP, the same pages over bare node:http, the same statements bare through pg`);
    const missed: string[] = [];
    const figures: Figures[] = [];
    const record = (f: Figures & { ok: boolean }) => { figures.push(f); if (!f.ok) missed.push(f.name); };
    for (const c of cases) {
      const timing = await measure(stack, bareUrl, key, reader, c.params, c.iterations ?? 200);
      record(line(c.name, timing, c.target ?? 20));
      const request = requestOf(reader, c.params(0));
      const { page, count } = eventPageStatements(request);
      console.log(`${''.padEnd(46)}page: ${await planOf(stack.pool, page)}; count: ${count ? await planOf(stack.pool, count) : 'in the page'}`);
    }

    // Deep pages: page 1,000 reached through 999 cursors, then asked for again and again. A
    // smaller seed (BENCH_QUERY_EVENTS) has fewer pages: its last page is asked for instead.
    for (const base of [{}, { resource: 'document' }] as Params[]) {
      let cursor: string | null = null;
      let walked = 0; // pages behind `cursor`
      let requests = 0;
      started = performance.now();
      while (walked < 999) {
        requests++;
        const { body } = await overHttp(stack.apiUrl, key, { ...base, limit: '25', ...(cursor ? { cursor } : {}) });
        if (body.pagination.next_cursor === null) break;
        cursor = body.pagination.next_cursor;
        walked++;
      }
      if (!cursor) throw new Error(`the queried workspace has fewer than two pages of ${JSON.stringify(base)}`);
      const walkMs = performance.now() - started;
      const name = `page ${walked + 1} via cursors${Object.keys(base).length ? ` (${new URLSearchParams(base)})` : ' (no filter)'}`;
      const params = { ...base, limit: '25', cursor };
      record(line(name, await measure(stack, bareUrl, key, reader, () => params, 200), 20));
      const { page, count } = eventPageStatements(requestOf(reader, params));
      console.log(`${''.padEnd(46)}walk of pages 1-${walked}: ${(walkMs / requests).toFixed(2)} ms a page; page: ${await planOf(stack.pool, page)}; count: ${count ? await planOf(stack.pool, count) : 'in the page'}`);
    }

    // total on broad filters: a first page (no cursor) must count every match.
    for (const [name, params, iterations] of [
      ['total: no filter (whole workspace)', {}, 60],
      ['total: resource=document (~75%)', { resource: 'document' }, 60],
      ['total: action=document.* (~75%)', { action: 'document.*' }, 60],
      ['total: from (last 30 days)', { from: formatTimestamp(now - 30n * DAY) }, 60],
      ['total: search=document (worst case, ~80%)', { search: 'document' }, 15],
    ] as Array<[string, Params, number]>) {
      const timing = await measure(stack, bareUrl, key, reader, () => ({ ...params, limit: '25' }), iterations);
      figures.push(line(name, timing, name.startsWith('total: search') ? 100 : 20));
      const { page, count } = eventPageStatements(requestOf(reader, { ...params, limit: '25' }));
      console.log(`${''.padEnd(46)}page: ${await planOf(stack.pool, page)}; count: ${count ? await planOf(stack.pool, count) : 'in the page'}`);
    }

    // GET /events/{id}
    const { rows: someIds } = await stack.pool.query<{ id: string }>('SELECT id FROM events WHERE workspace_id = $1 AND seq % 1000 = 7', [workspaceId]);
    const byId: Timing = { api: [], http: [], sql: [], total: 1 };
    for (let i = -WARMUP; i < 200; i++) {
      const id = someIds[(i + WARMUP) % someIds.length]!.id;
      const runs: Array<[keyof Omit<Timing, 'total'>, () => Promise<unknown>]> = [
        ['api', () => httpGet(`${stack.apiUrl}/api/v1/events/${id}`, key)],
        ['http', () => httpGet(`${bareUrl}/api/v1/events/${id}`, key)],
        ['sql', () => findEvent(stack.pool, workspaceId, id, keyId)],
      ];
      for (let k = 0; k < runs.length; k++) {
        const [side, run] = runs[(k + i + WARMUP) % runs.length]!;
        const t = performance.now();
        await run();
        if (i >= 0) byId[side].push(performance.now() - t);
      }
    }
    figures.push(line('GET /events/{id}', byId, 20));

    // The 1.5x rule against what HTTP alone costs, over every case that is not a search.
    const quick = figures.filter((f) => !f.name.includes('search'));
    console.log(`\n${quick.length} cases without search: API/SQL ${spread(quick, (f) => f.a50 / f.s50)} at p50, ${spread(quick, (f) => f.a95 / f.s95)} at p95;`
      + ` bare node:http/SQL ${spread(quick, (f) => f.h50 / f.s50)} at p50, ${spread(quick, (f) => f.h95 / f.s95)} at p95`
      + ` (over 1.5x at p95 even bare: ${quick.filter((f) => f.h95 > 1.5 * f.s95).length} of ${quick.length});`
      + ` API/bare node:http ${spread(quick, (f) => f.a50 / f.h50)} at p50`);
    console.log(missed.length === 0 ? '\nevery filter, search and deep-page target met' : `\ntargets missed (p95 or the 1.5x ratio): ${missed.join('; ')}`);
  } finally {
    agent.destroy();
    await bare?.close();
    await stack.close();
  }
}
