/**
 * `node bench/mod.ts query`: GET /api/v1/events on a million events.
 *
 * Seeds a realistic data set straight into `events` (many workspaces of Zipf-like sizes, each
 * with tenants, actors and interleaved sessions; multi-row inserts, because the API and worker
 * would take far too long for a million events), then measures p50/p95 latency over HTTP for each
 * filter kind, the search, a deep page reached through 999 cursors and `total` on broad filters,
 * each beside exactly the same statements run as bare SQL through pg in the same run, and prints
 * the plan (indexes used, execution time) that PostgreSQL chose for each. The figures and plans
 * are written up in docs/api/events-query.md.
 *
 * The rows interleave across workspaces and sessions in time order, as production traffic does,
 * so one workspace's events are scattered over the heap the way they would be. Hashes are random
 * 32-byte values linked as a chain (each event's previous_event_hash is the previous event's
 * hash): queries never check them, and computing real ones would only slow the seeding.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type pg from 'pg';
import { decodeCursor, queryFingerprint } from '../api/events/cursor.ts';
import { eventListQuery } from '../api/events/query-schema.ts';
import { formatTimestamp } from '../core/mod.ts';
import { eventPageStatements, findEvent, type EventPageRequest, type Statement } from '../store/mod.ts';
import { percentile, report, startBenchStack, type BenchStack } from './support.ts';

export interface SeedOptions {
  /** Events in all. */
  events: number;
  /** Workspace ids; the first gets the most events (sizes fall off as 1/rank). */
  workspaceIds: string[];
  /** First created_at; events are spread evenly from here to `endMicros`. */
  startMicros: bigint;
  endMicros: bigint;
  seed?: number;
  onProgress?: (done: number) => void;
}

/** Values the benchmark queries with, sampled from the largest workspace while seeding. */
export interface SeedSample {
  workspaceId: string;
  workspaceEvents: number;
  sessions: string[];
  actors: string[];
  tenants: string[];
  resourceIds: string[];
  targetIds: string[];
  /** A rare resource name (one document's). */
  resourceNames: string[];
}

/** mulberry32: tiny, fast and good enough to make the data set the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Sarah', 'Lisa', 'Omar', 'Mei', 'Lukas', 'Priya', 'Diego', 'Aisha', 'Tom', 'Yuki', 'Elena', 'Kwame', 'Noah', 'Fatima', 'Liam', 'Sofia', 'Ivan', 'Chloe', 'Ravi', 'Hana', 'Marco', 'Zoe', 'Ahmed', 'Nina', 'Jonas', 'Ines', 'Kai', 'Lea', 'Felix', 'Amara'];
const LAST = ['Chen', 'Wang', 'Haddad', 'Tanaka', 'Schmidt', 'Patel', 'Garcia', 'Okafor', 'Smith', 'Sato', 'Rossi', 'Mensah', 'Brown', 'Khan', 'Murphy', 'Silva', 'Petrov', 'Martin', 'Iyer', 'Kim', 'Bianchi', 'Dubois', 'Hassan', 'Novak', 'Berg', 'Costa', 'Larsen', 'Weber', 'Fischer', 'Diallo'];
const DOC_WORDS = ['Budget', 'Financial', 'Roadmap', 'Contract', 'Proposal', 'Design', 'Spec', 'Minutes', 'Plan', 'Forecast', 'Invoice', 'Onboarding', 'Security', 'Audit', 'Hiring', 'Pricing', 'Strategy', 'Retro', 'Launch', 'Research'];
const DOC_KINDS = ['Report', 'Draft', 'Summary', 'Notes', 'Review', 'Deck', 'Sheet', 'Memo'];
const FOLDERS = ['Reports', 'Archive', 'Finance Team', 'Shared', 'Legal', 'Design', 'Engineering', 'Sales', 'HR', 'Drafts'];
const PLACES: Array<[string, string, string]> = [['US', 'San Francisco', '104.28'], ['US', 'Portland', '73.240'], ['US', 'New York', '38.140'], ['GB', 'London', '81.2'], ['DE', 'Berlin', '85.214'], ['FR', 'Paris', '90.84'], ['JP', 'Tokyo', '126.0'], ['IN', 'Bengaluru', '49.207'], ['BR', 'São Paulo', '177.12'], ['NG', 'Lagos', '102.89']];
const AGENTS = ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36', 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'sealtrail-sdk-python/1.4.0'];

interface ActionSpec { action: string; category: string; resource: string; weight: number; targets?: 'folder' | 'folders' | 'user' | 'project' }
const ACTIONS: ActionSpec[] = [
  { action: 'document.viewed', category: 'documents', resource: 'document', weight: 30 },
  { action: 'document.edited', category: 'documents', resource: 'document', weight: 12 },
  { action: 'document.created', category: 'documents', resource: 'document', weight: 5, targets: 'folder' },
  { action: 'document.uploaded', category: 'documents', resource: 'document', weight: 4, targets: 'folder' },
  { action: 'document.downloaded', category: 'documents', resource: 'document', weight: 6 },
  { action: 'document.shared', category: 'documents', resource: 'document', weight: 3, targets: 'user' },
  { action: 'document.moved', category: 'documents', resource: 'document', weight: 2, targets: 'folders' },
  { action: 'document.moved_to_trash', category: 'documents', resource: 'document', weight: 1, targets: 'folder' },
  { action: 'document.restored', category: 'documents', resource: 'document', weight: 0.3, targets: 'folder' },
  { action: 'trash.emptied', category: 'documents', resource: 'trash', weight: 0.3 },
  { action: 'folder.created', category: 'documents', resource: 'folder', weight: 1 },
  { action: 'folder.renamed', category: 'documents', resource: 'folder', weight: 0.5 },
  { action: 'comment.created', category: 'collaboration', resource: 'comment', weight: 6 },
  { action: 'comment.deleted', category: 'collaboration', resource: 'comment', weight: 0.5 },
  { action: 'project.created', category: 'projects', resource: 'project', weight: 0.5 },
  { action: 'project.member_added', category: 'projects', resource: 'project', weight: 1, targets: 'user' },
  { action: 'project.archived', category: 'projects', resource: 'project', weight: 0.3 },
  { action: 'invoice.created', category: 'billing', resource: 'invoice', weight: 2 },
  { action: 'invoice.sent', category: 'billing', resource: 'invoice', weight: 1.5 },
  { action: 'invoice.paid', category: 'billing', resource: 'invoice', weight: 1.5 },
  { action: 'invoice.voided', category: 'billing', resource: 'invoice', weight: 0.2 },
  { action: 'settings.updated', category: 'settings', resource: 'workspace_settings', weight: 0.8 },
  { action: 'api_key.created', category: 'security', resource: 'api_key', weight: 0.1 },
  { action: 'api_key.revoked', category: 'security', resource: 'api_key', weight: 0.05 },
  { action: 'user.password_changed', category: 'security', resource: 'user', weight: 0.2 },
  { action: 'user.mfa_enabled', category: 'security', resource: 'user', weight: 0.1 },
  { action: 'report.exported', category: 'reports', resource: 'report', weight: 1 },
];
const ACTION_WEIGHT = ACTIONS.reduce((s, a) => s + a.weight, 0);

interface Actor { id: string; name: string; email: string; tenant: string; place: [string, string, string]; agent: string }
interface Session { id: string; actor: Actor; left: number; ip: string; started: boolean }
interface Workspace { id: string; share: number; seq: number; lastHash: Buffer | null; actors: Actor[]; sessions: Session[]; tenants: string[]; docs: number; folders: number; projects: number; sessionCount: number }

const COLUMNS = [
  ['workspace_id', 'uuid'], ['seq', 'bigint'], ['id', 'uuid'], ['batch_id', 'uuid'],
  ['actor_id', 'text'], ['actor_name', 'text'], ['actor_type', 'text'], ['action', 'text'], ['action_category', 'text'],
  ['resource', 'text'], ['resource_id', 'text'], ['resource_name', 'text'], ['metadata', 'jsonb'], ['targets', 'jsonb'],
  ['tenant_id', 'text'], ['session_id', 'text'], ['idempotency_key', 'text'], ['version', 'integer'],
  ['ip_address', 'text'], ['ip_country', 'text'], ['ip_city', 'text'], ['user_agent', 'text'],
  ['occurred_at', 'timestamptz'], ['created_at', 'timestamptz'], ['event_hash', 'bytea'], ['previous_event_hash', 'bytea'],
] as const;
const INSERT = `INSERT INTO events (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})`;
const CHUNK = 2000;

/**
 * Writes `options.events` events into `events` and advances each workspace's chain head. Returns
 * query values sampled from the largest workspace.
 */
export async function seedEvents(pool: pg.Pool, options: SeedOptions): Promise<SeedSample> {
  const random = prng(options.seed ?? 42);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  // Skewed pick: low indexes are much more popular (a few tenants/documents get most traffic).
  const skewed = (n: number) => Math.min(n - 1, Math.floor(n * random() ** 2.5));

  const harmonic = options.workspaceIds.reduce((s, _, i) => s + 1 / (i + 1), 0);
  const workspaces: Workspace[] = options.workspaceIds.map((id, i) => {
    const size = options.events / (i + 1) / harmonic;
    const tenantCount = Math.max(3, Math.round(size / 400));
    const tenants = Array.from({ length: tenantCount }, (_, t) => `org_${i}_${t.toString(36)}`);
    const actors = Array.from({ length: Math.max(5, Math.round(size / 40)) }, (_, a): Actor => {
      const first = pick(FIRST); const last = pick(LAST);
      return { id: `user_${i}_${a.toString(36)}`, name: `${first} ${last}`, email: `${first}.${last}${a}@example.com`.toLowerCase(),
        tenant: tenants[skewed(tenantCount)]!, place: pick(PLACES), agent: pick(AGENTS) };
    });
    return { id, share: 1 / (i + 1) / harmonic, seq: 0, lastHash: null, actors, sessions: [], tenants,
      docs: Math.max(10, Math.round(size / 8)), folders: Math.max(5, Math.round(size / 500)), projects: Math.max(3, Math.round(size / 2000)), sessionCount: 0 };
  });
  const cumulative: number[] = [];
  workspaces.reduce((s, w) => { cumulative.push(s + w.share); return s + w.share; }, 0);
  const pickWorkspace = () => { const r = random(); let lo = 0; let hi = cumulative.length - 1; while (lo < hi) { const mid = (lo + hi) >> 1; if (cumulative[mid]! < r) lo = mid + 1; else hi = mid; } return workspaces[lo]!; };

  const big = workspaces[0]!;
  const sample: SeedSample = { workspaceId: big.id, workspaceEvents: 0, sessions: [], actors: [], tenants: [], resourceIds: [], targetIds: [], resourceNames: [] };
  const docName = (ws: number, d: number) => `${DOC_WORDS[(d * 7 + ws) % DOC_WORDS.length]} ${DOC_KINDS[(d * 3) % DOC_KINDS.length]} ${d}.pdf`;

  const pickAction = () => { let r = random() * ACTION_WEIGHT; for (const a of ACTIONS) { r -= a.weight; if (r <= 0) return a; } return ACTIONS[0]!; };
  const step = (options.endMicros - options.startMicros) / BigInt(options.events);
  const columns: unknown[][] = COLUMNS.map(() => []);
  const batchId = crypto.randomUUID();
  let pending = 0;
  let inFlight: Promise<unknown>[] = [];
  const flush = async () => {
    if (pending === 0) return;
    const values = columns.map((c) => c.splice(0));
    pending = 0;
    inFlight.push(pool.query(INSERT, values));
    if (inFlight.length >= 2) { await Promise.all(inFlight); inFlight = []; }
  };

  for (let n = 0; n < options.events; n++) {
    const w = pickWorkspace();
    const wi = workspaces.indexOf(w);
    // A few sessions run at once in each workspace, more in bigger ones.
    const concurrent = Math.max(1, Math.round(w.share * 400));
    let session = w.sessions.length < concurrent ? undefined : w.sessions[int(w.sessions.length)];
    if (!session) {
      const actor = w.actors[skewed(w.actors.length)]!;
      session = { id: `sess_${wi}_${(w.sessionCount++).toString(36)}`, actor, left: 3 + int(60), ip: `${actor.place[2]}.${int(256)}.${1 + int(254)}`, started: false };
      w.sessions.push(session);
    }
    const actor = session.actor;
    const spec: ActionSpec = session.started ? pickAction() : { action: 'user.login', category: 'auth', resource: 'user', weight: 0 };
    session.started = true;
    if (--session.left <= 0) w.sessions.splice(w.sessions.indexOf(session), 1);

    let resourceId: string; let resourceName: string | null; let metadata: Record<string, unknown>;
    const doc = skewed(w.docs);
    switch (spec.resource) {
      case 'document': resourceId = `doc_${wi}_${doc.toString(36)}`; resourceName = docName(wi, doc);
        metadata = { folder: FOLDERS[doc % FOLDERS.length]!.toLowerCase(), file_size: 1000 + ((doc * 7919) % 5_000_000), mime_type: 'application/pdf',
          ...(spec.action === 'document.shared' ? { shared_with: pick(w.actors).email, permission: pick(['view', 'comment', 'edit']) } : {}),
          ...(spec.action === 'document.edited' ? { changes: { words_added: int(400), words_removed: int(100) } } : {}) };
        break;
      case 'user': resourceId = actor.id; resourceName = actor.name;
        metadata = spec.action === 'user.login' ? { method: pick(['password', 'sso', 'magic_link']), mfa: random() < 0.6, email: actor.email } : { email: actor.email };
        break;
      case 'invoice': { const inv = skewed(w.docs); resourceId = `inv_${wi}_${inv.toString(36)}`; resourceName = `INV-2026-${String(inv).padStart(6, '0')}`;
        metadata = { amount_cents: 500 + ((inv * 104729) % 500_000), currency: pick(['USD', 'EUR', 'GBP']), customer: `cus_${(inv * 31) % 9973}` }; break; }
      case 'folder': { const f = skewed(w.folders); resourceId = `folder_${wi}_${f.toString(36)}`; resourceName = FOLDERS[f % FOLDERS.length]!; metadata = { parent: 'root' }; break; }
      case 'project': { const p = skewed(w.projects); resourceId = `proj_${wi}_${p.toString(36)}`; resourceName = `${pick(DOC_WORDS)} project ${p}`; metadata = { visibility: pick(['private', 'team', 'public']) }; break; }
      case 'comment': resourceId = `cmt_${wi}_${n.toString(36)}`; resourceName = null; metadata = { document_id: `doc_${wi}_${doc.toString(36)}`, length: 20 + int(600) }; break;
      default: resourceId = `${spec.resource}_${wi}_${int(50).toString(36)}`; resourceName = null; metadata = { source: pick(['dashboard', 'api', 'cli']) };
    }
    const folderTarget = (f: number) => ({ type: 'folder', id: `folder_${wi}_${f.toString(36)}`, name: FOLDERS[f % FOLDERS.length]! });
    const targets = spec.targets === 'folder' ? [folderTarget(skewed(w.folders))]
      : spec.targets === 'folders' ? [folderTarget(skewed(w.folders)), folderTarget(skewed(w.folders))]
      : spec.targets === 'user' ? [(() => { const u = pick(w.actors); return { type: 'user', id: u.id, name: u.name }; })()]
      : [];

    const createdAt = options.startMicros + step * BigInt(n);
    const hash = randomBytes(32);
    w.seq += 1;
    const row = [
      w.id, w.seq, crypto.randomUUID(), batchId,
      actor.id, actor.name, 'user', spec.action, spec.category,
      spec.resource, resourceId, resourceName, JSON.stringify(metadata), JSON.stringify(targets),
      actor.tenant, session.id, null, null,
      session.ip, actor.place[0], actor.place[1], actor.agent,
      formatTimestamp(createdAt - BigInt(int(2_000_000))), formatTimestamp(createdAt), hash, w.lastHash,
    ];
    w.lastHash = hash;
    row.forEach((value, c) => columns[c]!.push(value));
    if (w === big) {
      // Keep a spread of real values to query with (every 997th event of the largest workspace).
      if (w.seq % 997 === 0) {
        sample.sessions.push(session.id); sample.actors.push(actor.id); sample.tenants.push(actor.tenant); sample.resourceIds.push(resourceId);
        if (spec.resource === 'document' && resourceName) sample.resourceNames.push(resourceName.replace(/\.pdf$/, ''));
      }
      if (targets.length > 0 && w.seq % 199 === 0) sample.targetIds.push(targets[0]!.id);
    }
    if (++pending === CHUNK) { await flush(); options.onProgress?.(n + 1); }
  }
  await flush();
  await Promise.all(inFlight);
  for (const w of workspaces) {
    await pool.query('UPDATE chain_heads SET seq = $2, event_hash = $3, created_at = (SELECT created_at FROM events WHERE workspace_id = $1 AND seq = $2) WHERE workspace_id = $1',
      [w.id, w.seq, w.lastHash]);
  }
  sample.workspaceEvents = big.seq;
  return sample;
}

// ---------------------------------------------------------------------------------------------
// The benchmark

const EVENTS = Number(process.env.BENCH_QUERY_EVENTS ?? 1_000_000);
const WORKSPACES = 100;
const WARMUP = 5;
const DAY = 86_400_000_000n;

type Params = Record<string, string>;
interface Timing { api: number[]; sql: number[]; total: number }

/** The store request the API builds from these query parameters: same schema, same cursor rules. */
function requestOf(workspaceId: string, params: Params): EventPageRequest {
  const parsed = eventListQuery.safeParse(params);
  if (!parsed.success) throw new Error(`bad benchmark query ${JSON.stringify(params)}: ${parsed.error.message}`);
  const { cursor, limit, ...filter } = parsed.data;
  const position = cursor === undefined ? undefined : decodeCursor(cursor, queryFingerprint(workspaceId, filter));
  return { workspaceId, filter, limit, afterSeq: position?.afterSeq, counted: position?.counted };
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

/** One request over HTTP, as a client sees it: until the JSON body is parsed. */
async function overHttp(apiUrl: string, key: string, params: Params): Promise<{ ms: number; body: { data: Array<{ id: string }>; pagination: { total: number; next_cursor: string | null } } }> {
  const started = performance.now();
  const res = await httpGet(`${apiUrl}/api/v1/events?${new URLSearchParams(params)}`, key);
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`GET /api/v1/events?${new URLSearchParams(params)} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { ms, body: res.body as never };
}

/** The same statements the API runs for `request`, bare through pg: page and count at once. */
async function overSql(pool: pg.Pool, request: EventPageRequest): Promise<{ ms: number; ids: string[]; total: number }> {
  const started = performance.now();
  const { page, count } = eventPageStatements(request);
  const [rows, counted] = await Promise.all([pool.query<{ id: string }>(page.text, page.values), pool.query<{ total: number }>(count.text, count.values)]);
  const ms = performance.now() - started;
  return { ms, ids: rows.rows.slice(0, request.limit).map((r) => r.id), total: (request.counted?.total ?? 0) + counted.rows[0]!.total };
}

/**
 * Alternates HTTP and bare SQL (changing which goes first) over `iterations` parameter sets, and
 * checks on the way that both return the same events and total.
 */
async function measure(stack: BenchStack, key: string, workspaceId: string, paramsOf: (i: number) => Params, iterations: number): Promise<Timing> {
  const timing: Timing = { api: [], sql: [], total: 0 };
  for (let i = -WARMUP; i < iterations; i++) {
    const params = paramsOf(i + WARMUP);
    const request = requestOf(workspaceId, params);
    let http: Awaited<ReturnType<typeof overHttp>>;
    let sql: Awaited<ReturnType<typeof overSql>>;
    if (i % 2 === 0) { http = await overHttp(stack.apiUrl, key, params); sql = await overSql(stack.pool, request); }
    else { sql = await overSql(stack.pool, request); http = await overHttp(stack.apiUrl, key, params); }
    if (http.body.data.map((e) => e.id).join() !== sql.ids.join()) throw new Error(`API and SQL disagree on the events for ${JSON.stringify(params)}`);
    if (i >= 0) { timing.api.push(http.ms); timing.sql.push(sql.ms); timing.total = http.body.pagination.total; }
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

function line(name: string, timing: Timing, targetMs: number): boolean {
  const api = [...timing.api].sort((x, y) => x - y);
  const sql = [...timing.sql].sort((x, y) => x - y);
  const [a50, a95, s50, s95] = [percentile(api, 50), percentile(api, 95), percentile(sql, 50), percentile(sql, 95)];
  const ok = a95 < targetMs && a95 <= 1.5 * s95;
  report(name, { total: timing.total, api_p50: a50, api_p95: a95, sql_p50: s50, sql_p95: s95, 'ratio_p50': a50 / s50, 'ratio_p95': a95 / s95, target: `p95<${targetMs}ms`, met: a95 < targetMs ? 'yes' : 'NO', '≤1.5x': a95 <= 1.5 * s95 ? 'yes' : 'NO' });
  return ok;
}

export default async function run(): Promise<void> {
  const stack = await startBenchStack({ worker: false });
  try {
    // One key per workspace; the first workspace is the largest, and the one queried.
    const workspaces: Array<{ workspaceId: string; key: string }> = [];
    for (let i = 0; i < WORKSPACES; i++) workspaces.push(await stack.workspace(['read']));

    // Bulk loading into indexed tables is slow; build the query indexes once the rows are in,
    // exactly as the migrations define them.
    const { rows: indexes } = await stack.pool.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname NOT IN ('events_pkey', 'events_id')");
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
    await stack.pool.query('VACUUM ANALYZE events');
    const { rows: sizes } = await stack.pool.query<{ name: string; size: string }>(
      "SELECT c.relname AS name, pg_size_pretty(pg_relation_size(c.oid)) AS size FROM pg_class c WHERE c.relname = 'events' OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'events'::regclass) ORDER BY pg_relation_size(c.oid) DESC");
    console.log(`sizes: ${sizes.map((s) => `${s.name} ${s.size}`).join(', ')}`);
    console.log(`queried workspace: ${sample.workspaceEvents} events (the largest of ${WORKSPACES}); values cycle over ${sample.sessions.length} sampled sessions, actors, tenants, resources`);

    const { workspaceId, key } = workspaces[0]!;
    const cycle = <T>(values: readonly T[]) => (i: number) => values[i % values.length]!;
    const day = (i: number) => {
      const start = now - 89n * DAY + BigInt((i * 7919) % 88) * DAY;
      return { from: formatTimestamp(start), to: formatTimestamp(start + DAY - 1n) };
    };
    const names = FIRST.flatMap((f, i) => [`${f} ${LAST[(i * 7) % LAST.length]}`]);
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

    console.log(`\n${'query (largest workspace)'.padEnd(44)} times in ms; API over HTTP vs the same statements bare through pg`);
    const missed: string[] = [];
    for (const c of cases) {
      const timing = await measure(stack, key, workspaceId, c.params, c.iterations ?? 200);
      if (!line(c.name, timing, c.target ?? 20)) missed.push(c.name);
      const request = requestOf(workspaceId, c.params(0));
      const { page, count } = eventPageStatements(request);
      console.log(`${''.padEnd(46)}page: ${await planOf(stack.pool, page)}; count: ${await planOf(stack.pool, count)}`);
    }

    // Deep pages: page 1,000 reached through 999 cursors, then asked for again and again.
    for (const base of [{}, { resource: 'document' }] as Params[]) {
      let cursor: string | null = null;
      started = performance.now();
      for (let p = 1; p < 1000; p++) {
        const { body } = await overHttp(stack.apiUrl, key, { ...base, limit: '25', ...(cursor ? { cursor } : {}) });
        cursor = body.pagination.next_cursor;
        if (!cursor) throw new Error(`ran out of pages at page ${p}`);
      }
      const walkMs = performance.now() - started;
      const name = `page 1000 via cursors${Object.keys(base).length ? ` (${new URLSearchParams(base)})` : ' (no filter)'}`;
      const params = { ...base, limit: '25', cursor: cursor! };
      if (!line(name, await measure(stack, key, workspaceId, () => params, 200), 20)) missed.push(name);
      const { page, count } = eventPageStatements(requestOf(workspaceId, params));
      console.log(`${''.padEnd(46)}walk of pages 1-999: ${(walkMs / 999).toFixed(2)} ms a page; page: ${await planOf(stack.pool, page)}; count: ${await planOf(stack.pool, count)}`);
    }

    // total on broad filters: a first page (no cursor) must count every match.
    for (const [name, params, iterations] of [
      ['total: no filter (whole workspace)', {}, 60],
      ['total: resource=document (~75%)', { resource: 'document' }, 60],
      ['total: action=document.* (~75%)', { action: 'document.*' }, 60],
      ['total: from (last 30 days)', { from: formatTimestamp(now - 30n * DAY) }, 60],
      ['total: search=document (worst case, ~80%)', { search: 'document' }, 15],
    ] as Array<[string, Params, number]>) {
      const timing = await measure(stack, key, workspaceId, () => ({ ...params, limit: '25' }), iterations);
      line(name, timing, name.startsWith('total: search') ? 100 : 20);
      const { page, count } = eventPageStatements(requestOf(workspaceId, { ...params, limit: '25' }));
      console.log(`${''.padEnd(46)}page: ${await planOf(stack.pool, page)}; count: ${await planOf(stack.pool, count)}`);
    }

    // GET /events/{id}
    const { rows: someIds } = await stack.pool.query<{ id: string }>('SELECT id FROM events WHERE workspace_id = $1 AND seq % 1000 = 7', [workspaceId]);
    const byId: Timing = { api: [], sql: [], total: 1 };
    for (let i = -WARMUP; i < 200; i++) {
      const id = someIds[(i + WARMUP) % someIds.length]!.id;
      let t = performance.now();
      await httpGet(`${stack.apiUrl}/api/v1/events/${id}`, key);
      const apiMs = performance.now() - t;
      t = performance.now();
      await findEvent(stack.pool, workspaceId, id);
      if (i >= 0) { byId.api.push(apiMs); byId.sql.push(performance.now() - t); }
    }
    line('GET /events/{id}', byId, 20);

    console.log(missed.length === 0 ? '\nevery filter, search and deep-page target met' : `\ntargets missed (p95 or the 1.5x ratio): ${missed.join('; ')}`);
  } finally {
    agent.destroy();
    await stack.close();
  }
}
