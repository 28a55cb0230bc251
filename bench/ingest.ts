/**
 * Issue 3's benchmark: 100k events through the batch API from 8 concurrent clients, and single
 * events from 32 concurrent clients, against the API and worker running as their own processes
 * (and the clients in theirs: bench/load-client.ts).
 * Baseline, same run: a bare multi-row INSERT of the same events into a copy of the events table
 * with the same indexes, and of their search rows into a copy of event_search, on one connection
 * (one chain is appended by one transaction at a time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { computeEventHash, formatTimestamp, nowMicros } from '../core/mod.ts';
import { bundleWorkflows } from '../worker/mod.ts';
import { generateEvents, type BenchEvent } from './events.ts';
import { loadInChild, type Sample } from './load-client.ts';
import { freePort, percentile, report, startBenchStack, stolenCpuSeconds, treeCpuSeconds, type BenchStack } from './support.ts';

const BATCH_EVENTS = Number(process.env.BENCH_BATCH_EVENTS ?? 100_000);
const SINGLE_EVENTS = Number(process.env.BENCH_SINGLE_EVENTS ?? 30_000);
/** Events a second of the open loop; unset, half the closed loop's rate. */
const OPEN_LOOP_RATE = process.env.BENCH_OPEN_LOOP_RATE === undefined ? undefined : Number(process.env.BENCH_OPEN_LOOP_RATE);
/** With BENCH_PG_STATEMENTS=1, each phase also prints where PostgreSQL spent its time, by statement (pg_stat_statements). */
const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';

interface Processes { apiUrl: string; pids: { api: number; worker: number }; stop(): Promise<void> }

async function startProcesses(stack: BenchStack, temporalAddress: string): Promise<Processes> {
  const bundle = join(tmpdir(), `sealtrail-bench-bundle-${process.pid}.js`);
  writeFileSync(bundle, (await bundleWorkflows()).code);
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: 'bench-processes',
    TEMPORAL_WORKFLOW_BUNDLE: bundle, API_PORT: String(port), LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '20' };
  const children: ChildProcess[] = ['worker', 'api'].map((role) =>
    spawn(process.execPath, [join(import.meta.dirname, '..', 'cli', 'main.ts'), role], { env, stdio: ['ignore', 'ignore', 'ignore'] }));
  const apiUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${apiUrl}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    apiUrl, pids: { worker: children[0]!.pid!, api: children[1]!.pid! },
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
      rmSync(bundle, { force: true });
    },
  };
}

/**
 * Where the slowest 1% of requests spent their time, on average: each server stage, `before`
 * the server took the request up (sending, the server's socket and event loop), and `after` it
 * answered (the answer's way back and the client's own loop).
 */
function slowestBreakdown(samples: Sample[]): Record<string, number> {
  const slow = [...samples].sort((a, b) => b.ms - a.ms).slice(0, Math.max(1, Math.floor(samples.length / 100)));
  const sum: Record<string, number> = { latency: 0 };
  for (const s of slow) {
    sum.latency! += s.ms;
    let inside = 0;
    for (const [stage, ms] of Object.entries(s.stages)) { sum[stage] = (sum[stage] ?? 0) + ms; inside += ms; }
    // Outside the server's stages: before it took the request up, and the rest (after it answered).
    const before = Math.max(0, s.before ?? 0);
    sum.before = (sum.before ?? 0) + before;
    sum.after = (sum.after ?? 0) + s.ms - inside - before;
  }
  return Object.fromEntries(Object.entries(sum).map(([k, v]) => [`${k}_ms`, Math.round((v / slow.length) * 10) / 10]));
}

async function chained(pool: pg.Pool, workspaceId: string): Promise<number> {
  const { rows } = await pool.query<{ seq: number }>('SELECT seq FROM chain_heads WHERE workspace_id = $1', [workspaceId]);
  return rows[0]!.seq;
}

/**
 * What the inbox writes wait on: samples pg_stat_activity every few ms while the load runs, and
 * counts the wait events of backends busy with an inbox INSERT (no wait: on CPU). Tells a write
 * queued behind the WAL flush (IO/WalSync, LWLock/WALWrite) from one waiting on locks or CPU.
 */
function inboxWaitSampler(stack: BenchStack): () => Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await stack.pool.query<{ wait: string; n: number }>(
        `SELECT coalesce(wait_event_type || '/' || wait_event, 'cpu') AS wait, count(*)::int AS n FROM pg_stat_activity
          WHERE state = 'active' AND query LIKE 'INSERT INTO ingest_batches%' GROUP BY 1`);
      for (const { wait, n } of rows) counts[wait] = (counts[wait] ?? 0) + n;
      await new Promise((r) => setTimeout(r, 5));
    }
  })().catch((error: unknown) => { counts[`sampling failed: ${(error as Error).message}`] = 1; }); // never an unhandled rejection mid-run
  return async () => {
    running = false;
    await loop;
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => [k, `${Math.round((100 * v) / total)}%`])) as never;
  };
}

/**
 * CPU used per event by each process, between two snapshots (µs/event); what the load costs where.
 * `client` is this process (its samplers and polling) plus the load client's own figure.
 */
function cpuMeter(stack: BenchStack, processes: Processes): (loadClientSeconds: number) => Record<string, number> {
  const roots = { api: processes.pids.api, worker: processes.pids.worker, postgres: stack.pids.postgres, temporal: stack.pids.temporal };
  const before = treeCpuSeconds(roots);
  const stolen = stolenCpuSeconds();
  const client = process.cpuUsage();
  return (loadClientSeconds: number) => {
    const after = treeCpuSeconds(roots);
    const used = process.cpuUsage(client);
    const out: Record<string, number> = { client: (used.user + used.system) / 1e6 + loadClientSeconds };
    if (before && after) for (const name of Object.keys(roots)) out[name] = after[name]! - before[name]!;
    if (stolen !== null) out.stolen_by_host = stolenCpuSeconds()! - stolen;
    return out;
  };
}

/**
 * PostgreSQL's own account of a phase, by statement (nested ones, as run by triggers, on their own
 * lines and inside their caller's time too): time and WAL per event. Tells which statement, or
 * which index under it, an event's CPU and WAL go to.
 */
async function statementMeter(stack: BenchStack): Promise<(events: number) => Promise<void>> {
  if (!PG_STATEMENTS) return async () => {};
  await stack.pool.query('SELECT pg_stat_statements_reset()');
  return async (events) => {
    const { rows } = await stack.pool.query<{ calls: number; ms: number; wal: number; query: string }>(
      `SELECT calls::int, total_exec_time AS ms, wal_bytes::float8 AS wal, regexp_replace(query, '\\s+', ' ', 'g') AS query
         FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_%' ORDER BY total_exec_time DESC LIMIT 8`);
    report('  PostgreSQL by statement (pg_stat_statements)', {});
    for (const r of rows) {
      report(`    ${r.query.slice(0, 40)}`, { calls: r.calls, us_per_event: Math.round((r.ms * 1000) / events), wal_bytes_per_event: Math.round(r.wal / events) });
    }
  };
}

function perEvent(cpu: Record<string, number>, events: number): Record<string, number> {
  const { stolen_by_host: stolen, ...used } = cpu;
  const total = Object.values(used).reduce((a, b) => a + b, 0);
  const perEventUs = Object.fromEntries([...Object.entries(used), ['total', total]].map(([k, v]) => [`${k}_us`, Math.round((v as number) * 1e6 / events)]));
  // Not per event: the whole phase's pause by the host, if any.
  return stolen === undefined ? perEventUs : { ...perEventUs, stolen_by_host_ms: Math.round(stolen * 1000) };
}

async function phase(name: string, stack: BenchStack, processes: Processes, events: BenchEvent[], perRequest: number, clients: number): Promise<number> {
  const { apiUrl } = processes;
  const { workspaceId, key } = await stack.workspace(['ingest']);
  const requests: BenchEvent[][] = [];
  for (let i = 0; i < events.length; i += perRequest) requests.push(events.slice(i, i + perRequest));
  const statements = await statementMeter(stack);
  const started = performance.now();
  const meter = cpuMeter(stack, processes);
  // Inbox INSERTs only happen while the load runs: the sampler stops with it (its ~200 queries a
  // second are in the CPU figures of that time).
  const stopSampling = inboxWaitSampler(stack);
  let waits: Record<string, number>;
  let loaded: Awaited<ReturnType<typeof loadInChild>>;
  try {
    const path = perRequest > 1 ? '/api/v1/events/batch' : '/api/v1/events';
    const bodies = requests.map((events) => JSON.stringify(perRequest > 1 ? { events } : events[0]));
    loaded = await loadInChild({ kind: 'closed', apiUrl, key, path, bodies, clients });
  } finally {
    waits = await stopSampling();
  }
  const { seconds, latencies, samples, cpuSeconds } = loaded;
  while (await chained(stack.pool, workspaceId) < events.length) await new Promise((r) => setTimeout(r, 50));
  const endToEnd = (performance.now() - started) / 1000;
  const cpu = meter(cpuSeconds);
  const { rows } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_batches WHERE workspace_id = $1', [workspaceId]);
  const workflows = (await stack.temporal.workflow.count(`WorkspaceId = '${workspaceId}'`)).count;
  report(name, {
    events: events.length, requests: requests.length, 'accepted_ev/s': Math.round(events.length / seconds), 'chained_ev/s': Math.round(events.length / endToEnd),
    'p50_ms': percentile(latencies, 50), 'p99_ms': percentile(latencies, 99), inbox_batches: rows[0]!.n, workflows,
  });
  report('  the slowest 1% of those requests, on average', slowestBreakdown(samples));
  report('  CPU per event, by process (until chained)', perEvent(cpu, events.length));
  report('  inbox INSERTs in progress, by what they wait on', waits);
  await statements(events.length);
  return events.length / endToEnd;
}

async function openLoopPhase(stack: BenchStack, processes: Processes, events: BenchEvent[], rate: number): Promise<void> {
  const { apiUrl } = processes;
  const { workspaceId, key } = await stack.workspace(['ingest']);
  const statements = await statementMeter(stack);
  const started = performance.now();
  const meter = cpuMeter(stack, processes);
  const stopSampling = inboxWaitSampler(stack);
  let waits: Record<string, number>;
  let loaded: Awaited<ReturnType<typeof loadInChild>>;
  try {
    loaded = await loadInChild({ kind: 'open', apiUrl, key, path: '/api/v1/events', bodies: events.map((e) => JSON.stringify(e)), rate });
  } finally {
    waits = await stopSampling();
  }
  const { seconds, latencies, samples, cpuSeconds } = loaded;
  while (await chained(stack.pool, workspaceId) < events.length) await new Promise((r) => setTimeout(r, 50));
  const { rows } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_batches WHERE workspace_id = $1', [workspaceId]);
  report(`single events, open loop at ${rate} ev/s`, {
    events: events.length, 'accepted_ev/s': Math.round(events.length / seconds), 'chained_ev/s': Math.round(events.length / ((performance.now() - started) / 1000)),
    'p50_ms': percentile(latencies, 50), 'p99_ms': percentile(latencies, 99), inbox_batches: rows[0]!.n,
  });
  report('  the slowest 1% of those requests, on average', slowestBreakdown(samples));
  report('  CPU per event, by process (until chained)', perEvent(meter(cpuSeconds), events.length));
  report('  inbox INSERTs in progress, by what they wait on', waits);
  await statements(events.length);
}

/**
 * Bare multi-row INSERTs (100 rows each) of the same events, with hashes, into a copy of events
 * with the same indexes, each statement also writing the events' search rows into a copy of
 * event_search (its index is the events' search index, migrations/007_search_rows.sql).
 */
async function bareInsert(stack: BenchStack, events: BenchEvent[]): Promise<number> {
  const client = new pg.Client(stack.databaseUrl);
  await client.connect();
  await client.query('CREATE TABLE bench_bare (LIKE events INCLUDING ALL)');
  await client.query('CREATE TABLE bench_bare_search (LIKE event_search INCLUDING ALL)');
  const workspaceId = crypto.randomUUID();
  let previous: string | null = null;
  const start = nowMicros();
  const rows = events.map((e, i) => {
    const fields = { workspace_id: workspaceId, id: crypto.randomUUID(), ...e, idempotency_key: null, version: null, ip_country: 'US', ip_city: 'Boston',
      occurred_at: formatTimestamp(BigInt(Date.parse(e.occurred_at)) * 1000n), created_at: formatTimestamp(start + BigInt(i)) };
    const hash = computeEventHash(fields, previous);
    const row = [workspaceId, i + 1, fields.id, workspaceId, e.actor_id, e.actor_name, e.actor_type, e.action, e.action_category, e.resource, e.resource_id, e.resource_name,
      JSON.stringify(e.metadata), JSON.stringify(e.targets), e.tenant_id, e.session_id, null, null, e.ip_address, 'US', 'Boston', e.user_agent,
      fields.occurred_at, fields.created_at, Buffer.from(hash, 'hex'), previous ? Buffer.from(previous, 'hex') : null];
    previous = hash;
    return row;
  });
  const columns = 26;
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += 100) {
    const chunk = rows.slice(i, i + 100);
    const values = chunk.map((_, r) => `(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`).join(', ');
    await client.query(`WITH e AS (INSERT INTO bench_bare VALUES ${values} RETURNING workspace_id, seq, actor_name, action, resource_name, metadata)
      INSERT INTO bench_bare_search SELECT e.workspace_id, e.seq, s.part, s.text
        FROM e CROSS JOIN LATERAL event_search_parts(lower(event_search_text(e.actor_name, e.action, e.resource_name, e.metadata))) AS s`, chunk.flat());
  }
  const rate = events.length / ((performance.now() - t0) / 1000);
  await client.query('DROP TABLE bench_bare, bench_bare_search');
  await client.end();
  report('baseline: bare multi-row INSERT (100/stmt)', { events: events.length, 'ev/s': Math.round(rate) });
  return rate;
}

export default async function run(): Promise<void> {
  if (OPEN_LOOP_RATE !== undefined && !(OPEN_LOOP_RATE > 0)) {
    throw new Error(`BENCH_OPEN_LOOP_RATE must be a positive number of events a second, not '${process.env.BENCH_OPEN_LOOP_RATE}'`);
  }
  const stack = await startBenchStack({
    worker: false, pgSettings: PG_STATEMENTS ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : undefined,
  });
  if (PG_STATEMENTS) await stack.pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const processes = await startProcesses(stack, stack.temporalAddress);
  try {
    const batchEvents = generateEvents(BATCH_EVENTS, 1);
    const sizes = batchEvents.slice(0, 1000).map((e) => Buffer.byteLength(JSON.stringify(e))).sort((a, b) => a - b);
    console.log(`event size: p5=${percentile(sizes, 5)} B, median=${percentile(sizes, 50)} B, p95=${percentile(sizes, 95)} B`);
    const bare = await bareInsert(stack, batchEvents);
    const batch = await phase('batch API, 8 clients x 100 events/request', stack, processes, batchEvents, 100, 8);
    const single = await phase('single events, 32 clients (closed loop)', stack, processes, generateEvents(SINGLE_EVENTS, 2), 1, 32);
    // Half the rate the closed loop sustained (or a rate given, to compare runs at the same one):
    // the latency users see below saturation.
    const rate = OPEN_LOOP_RATE ?? Math.round(single / 2 / 10) * 10;
    await openLoopPhase(stack, processes, generateEvents(Math.round(SINGLE_EVENTS / 2), 3), rate);
    report('end-to-end batch rate / bare INSERT rate', { ratio: batch / bare, target: '>= 0.5' });
  } finally {
    await processes.stop();
    await stack.close();
  }
}
