/**
 * `node bench/mod.ts anchor`: issue 5's benchmark, on a day of 1M events across 100 workspaces.
 *
 * The day is written straight into `events` (multi-row inserts; the API would take far too
 * long), with real chained hashes computed by core, so the trees are the real ones. One
 * workspace holds 10% of the day so that its bundle is large enough to time the verifier.
 * The query indexes of 002 are dropped first in this throwaway database: they only slow the
 * seeding, and neither anchoring nor proofs use them. The day is then vacuumed, as autovacuum
 * would an append-only table, so hashes are read index-only.
 *
 * Figures, each beside a baseline from the same run:
 * - building every tree and storing the anchors (prepareAnchorRun), beside reading the same
 *   event hashes from PostgreSQL and hashing the same trees in memory;
 * - sending and confirming the day's one transaction on a local Hardhat node;
 * - p50/p95 of GET /api/v1/events/{id}/proof over HTTP (target p95 < 10 ms), beside
 *   GET /api/v1/events/{id} for the same events;
 * - exporting the big workspace's bundle over HTTP;
 * - the offline verifier (cli/verify-bundle.ts, in this process, worker threads) in events/s,
 *   beside a bare SHA-256 over the same bundle bytes (target ≥ 1/4 of that rate): the best of
 *   three rounds after a first, cold run (also shown), each round timing both.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { prepareAnchorRun } from '../activities/anchoring/prepare.ts';
import { confirmAnchorTransaction, sendAnchorTransaction } from '../activities/anchoring/send.ts';
import { LOCAL_DEV_PRIVATE_KEY, openAnchorChain } from '../activities/mod.ts';
import { verifyBundleFile } from '../cli/verify-bundle.ts';
import { defaultThreads } from '../cli/verifier-threads.ts';
import {
  computeEventHash, formatTimestamp, fromHex, hashLeaf, normalizeTimestamp, parseTimestamp, rootOfHashes, SUBTREE_SIZE, unpackHashes,
  type ChainedEventFields,
} from '../core/mod.ts';
import { silentLogger } from '../log/mod.ts';
import { EVENT_ROW_COLUMNS, INSERT_EVENT_ROWS } from '../store/mod.ts';
import { startLocalEvmNode } from '../stack/mod.ts';
import { generateEvents } from './events.ts';
import { percentile, report, startBenchStack } from './support.ts';

const EVENTS = Number(process.env.BENCH_ANCHOR_EVENTS ?? 1_000_000);
const WORKSPACES = 100;
const BIG_SHARE = 0.1;
const DAY = '2026-03-15';
const PROOF_SAMPLES = Number(process.env.BENCH_PROOF_SAMPLES ?? 2000);

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** Writes the day: event i goes to the big workspace 10% of the time, else round-robin to the rest. */
async function seedDay(pool: pg.Pool, workspaceIds: string[]): Promise<void> {
  const heads = new Map<string, { seq: number; hash: string | null; at: string }>(workspaceIds.map((id) => [id, { seq: 0, hash: null, at: '' }]));
  const start = parseTimestamp(`${DAY}T00:00:00Z`)!;
  const step = 86_400_000_000n / BigInt(EVENTS);
  const batchId = crypto.randomUUID();
  const CHUNK = 5000;
  let inserting: Promise<unknown> = Promise.resolve();
  const t0 = performance.now();
  for (let from = 0; from < EVENTS; from += CHUNK) {
    const generated = generateEvents(Math.min(CHUNK, EVENTS - from), 1 + from / CHUNK);
    const columns: unknown[][] = EVENT_ROW_COLUMNS.map(() => []);
    generated.forEach((g, j) => {
      const i = from + j;
      const ws = i % 10 < BIG_SHARE * 10 ? workspaceIds[0]! : workspaceIds[1 + (i % (WORKSPACES - 1))]!;
      const head = heads.get(ws)!;
      const createdAt = formatTimestamp(start + BigInt(i) * step);
      const fields: ChainedEventFields = {
        workspace_id: ws, id: crypto.randomUUID(), actor_id: g.actor_id, actor_name: g.actor_name, actor_type: g.actor_type, action: g.action,
        action_category: g.action_category, resource: g.resource, resource_id: g.resource_id, resource_name: g.resource_name,
        metadata: g.metadata, targets: g.targets, tenant_id: g.tenant_id, session_id: g.session_id, idempotency_key: null, version: null,
        ip_address: g.ip_address, ip_country: 'DE', ip_city: 'Berlin', user_agent: g.user_agent,
        occurred_at: normalizeTimestamp(g.occurred_at)!, created_at: createdAt,
      };
      const hash = computeEventHash(fields, head.hash);
      const row = [ws, head.seq + 1, fields.id, batchId, fields.actor_id, fields.actor_name, fields.actor_type, fields.action, fields.action_category,
        fields.resource, fields.resource_id, fields.resource_name, JSON.stringify(fields.metadata), JSON.stringify(fields.targets), fields.tenant_id,
        fields.session_id, null, null, fields.ip_address, fields.ip_country, fields.ip_city, fields.user_agent, fields.occurred_at, createdAt,
        fromHex(hash), head.hash === null ? null : fromHex(head.hash)];
      row.forEach((v, c) => columns[c]!.push(v));
      head.seq++; head.hash = hash; head.at = createdAt;
    });
    await inserting;
    inserting = pool.query(INSERT_EVENT_ROWS, columns);
    if ((from / CHUNK) % 40 === 0) process.stdout.write(`  seeding: ${from} events (${seconds(t0).toFixed(0)} s)\n`);
  }
  await inserting;
  for (const [ws, head] of heads) {
    await pool.query('UPDATE chain_heads SET seq = $2, event_hash = $3, created_at = $4 WHERE workspace_id = $1', [ws, head.seq, fromHex(head.hash!), head.at]);
  }
  // As autovacuum does for an append-only table: sets the visibility map, so the hash index
  // (events_hash_by_seq) answers without touching the heap.
  await pool.query('VACUUM ANALYZE events');
}

/** Baseline for the build: the same event hashes read, and the same trees hashed in memory. */
async function buildBaselines(pool: pg.Pool, workspaceIds: string[]): Promise<{ readSeconds: number; hashSeconds: number }> {
  const t0 = performance.now();
  const all: Uint8Array[][] = [];
  for (const id of workspaceIds) {
    const { rows } = await pool.query<{ hashes: Buffer }>(
      `SELECT string_agg(event_hash, ''::bytea ORDER BY seq) AS hashes FROM events WHERE workspace_id = $1`, [id]);
    all.push(unpackHashes(rows[0]!.hashes));
  }
  const readSeconds = seconds(t0);
  const t1 = performance.now();
  for (const hashes of all) {
    const runs: Uint8Array[] = [];
    for (let i = 0; i < hashes.length; i += SUBTREE_SIZE) runs.push(rootOfHashes(hashes.slice(i, i + SUBTREE_SIZE).map((h) => hashLeaf(h))));
    rootOfHashes(runs);
  }
  return { readSeconds, hashSeconds: seconds(t1) };
}

async function latencies(urls: string[], key: (url: string) => string): Promise<number[]> {
  const out: number[] = [];
  for (const url of urls) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${key(url)}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

async function sha256File(path: string): Promise<number> {
  const t0 = performance.now();
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  hash.digest();
  return seconds(t0);
}

export default async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sealtrail-bench-anchor-'));
  const stack = await startBenchStack({ worker: false });
  const evm = await startLocalEvmNode({ port: 18_000 + Math.floor(Math.random() * 2000), logFile: join(dir, 'evm.log'), pidFile: join(dir, 'evm.pid'), stateDir: join(dir, 'evm') });
  try {
    const { pool } = stack;
    const workspaces = await Promise.all(Array.from({ length: WORKSPACES }, () => stack.workspace(['read'])));
    const keyOf = new Map(workspaces.map((w) => [w.workspaceId, w.key]));
    const { rows: indexes } = await pool.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'events' AND indexname NOT IN ('events_pkey', 'events_id', 'events_created', 'events_hash_by_seq')`);
    for (const { name } of indexes) await pool.query(`DROP INDEX ${name}`);

    console.log(`seeding ${EVENTS} events of ${DAY} across ${WORKSPACES} workspaces (real chained hashes)…`);
    let t0 = performance.now();
    await seedDay(pool, workspaces.map((w) => w.workspaceId));
    report('seed (hash + insert)', { events: EVENTS, seconds: seconds(t0), events_per_s: EVENTS / seconds(t0) });

    const chain = openAnchorChain({ rpcUrl: evm.rpcUrl, name: 'local', chainId: 31337, confirmations: 1, privateKey: LOCAL_DEV_PRIVATE_KEY });
    const baselines = await buildBaselines(pool, workspaces.map((w) => w.workspaceId));
    t0 = performance.now();
    const prepared = await prepareAnchorRun(pool, chain, DAY);
    const buildSeconds = seconds(t0);
    report('build every tree + store anchors', { anchors: prepared.anchors, events: prepared.events, seconds: buildSeconds });
    report('  baseline: read the same hashes (SQL)', { seconds: baselines.readSeconds });
    report('  baseline: hash the same trees (memory)', { seconds: baselines.hashSeconds, 'read+hash': baselines.readSeconds + baselines.hashSeconds,
      build_vs_read_plus_hash: buildSeconds / (baselines.readSeconds + baselines.hashSeconds) });

    t0 = performance.now();
    const deps = { pool, chain, log: silentLogger, pollMs: 100 };
    await sendAnchorTransaction(deps, prepared.runId!);
    const confirmed = await confirmAnchorTransaction(deps, prepared.runId!);
    report('send + confirm the day\'s transaction', { seconds: seconds(t0), block: confirmed.blockNumber });

    const { rows: sample } = await pool.query<{ id: string; workspace_id: string }>(
      'SELECT id, workspace_id FROM events TABLESAMPLE SYSTEM (1) LIMIT $1', [PROOF_SAMPLES]);
    const wsOf = new Map(sample.map((r) => [r.id, r.workspace_id]));
    const keyFor = (url: string) => keyOf.get(wsOf.get(url.split('/')[6]!)!)!;
    await latencies(sample.slice(0, 200).map((r) => `${stack.apiUrl}/api/v1/events/${r.id}/proof`), keyFor); // warm-up
    const proof = await latencies(sample.map((r) => `${stack.apiUrl}/api/v1/events/${r.id}/proof`), keyFor);
    const plain = await latencies(sample.map((r) => `${stack.apiUrl}/api/v1/events/${r.id}`), keyFor);
    report('GET /events/{id}/proof over HTTP (ms)', { n: proof.length, p50: percentile(proof, 50), p95: percentile(proof, 95), target_p95: '<10' });
    report('  baseline: GET /events/{id} (ms)', { n: plain.length, p50: percentile(plain, 50), p95: percentile(plain, 95) });

    const big = workspaces[0]!;
    const { rows: [anchorRow] } = await pool.query<{ id: string; events_count: number }>('SELECT id, events_count FROM anchors WHERE workspace_id = $1', [big.workspaceId]);
    const file = join(dir, 'bundle.jsonl');
    t0 = performance.now();
    const res = await fetch(`${stack.apiUrl}/api/v1/anchors/${anchorRow!.id}/bundle`, { headers: { authorization: `Bearer ${big.key}` } });
    await pipeline(Readable.fromWeb(res.body as never), createWriteStream(file));
    const exportSeconds = seconds(t0);
    const bytes = statSync(file).size;
    const events = anchorRow!.events_count;
    report('export bundle over HTTP', { events, MB: bytes / 1e6, seconds: exportSeconds, events_per_s: events / exportSeconds });

    // Wall time is the figure asked for; CPU time (all threads of this process) is shown beside
    // it because this machine's two cores are shared with other work while the bench runs.
    const timed = async (work: () => Promise<void>) => {
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      await work();
      const cpu = process.cpuUsage(cpu0);
      return { wall: seconds(t), cpu: (cpu.user + cpu.system) / 1e6 };
    };
    const verify = (threads: number) => timed(async () => {
      let output = '';
      const code = await verifyBundleFile({ file, rpc: evm.rpcUrl, quiet: true, threads, minConfirmations: 1, out: (s) => { output += s; } });
      if (code !== 0) throw new Error(`the verifier rejected the bundle:\n${output.slice(0, 2000)}`);
    });
    await sha256File(file); // page cache warm-up, as the verifier will read a warm file too
    const threads = defaultThreads();
    // The first run pays for compiling the verifier (this thread's JIT); later runs show the
    // rate it settles at, each with fresh worker threads.
    // Rounds interleave the bare hash and the verifier, so that both meet the same background
    // (PostgreSQL's checkpointer is still writing the seeded day out, and this machine is shared).
    await pool.query('CHECKPOINT');
    const cold = await verify(threads);
    const runs: Record<'bare' | 'parallel' | 'single', Array<{ wall: number; cpu: number }>> = { bare: [], parallel: [], single: [] };
    for (let round = 0; round < 3; round++) {
      runs.bare.push(await timed(async () => { await sha256File(file); }));
      runs.parallel.push(await verify(threads));
      runs.single.push(await verify(1));
    }
    // Best of three: background work only ever adds time (a bare run right after a verifier run
    // has been seen at half speed while the process cleaned up), so the fastest run of each is
    // the one measured in like conditions.
    const best = (r: Array<{ wall: number; cpu: number }>) => [...r].sort((a, b) => a.wall - b.wall)[0]!;
    const [bare, parallel, single] = [best(runs.bare), best(runs.parallel), best(runs.single)];
    const walls = (r: Array<{ wall: number }>) => r.map((x) => x.wall.toFixed(2)).join('/');
    report(`offline verifier, ${threads} threads (events/s)`, { events, seconds: parallel.wall, events_per_s: events / parallel.wall, vs_bare: bare.wall / parallel.wall, target: '>=0.25', cpu_s: parallel.cpu, rounds_s: walls(runs.parallel) });
    report(`  its first run (cold code)`, { seconds: cold.wall, events_per_s: events / cold.wall, vs_bare: bare.wall / cold.wall });
    report('  offline verifier, 1 thread (events/s)', { events, seconds: single.wall, events_per_s: events / single.wall, vs_bare: bare.wall / single.wall, cpu_s: single.cpu, rounds_s: walls(runs.single) });
    report('  baseline: bare SHA-256 over the bundle', { MB: bytes / 1e6, seconds: bare.wall, events_per_s: events / bare.wall, MB_per_s: bytes / 1e6 / bare.wall, cpu_s: bare.cpu, rounds_s: walls(runs.bare) });
    report('  per CPU-second: verifier vs bare', { verifier_events: events / single.cpu, bare_events: events / bare.cpu, ratio: bare.cpu / single.cpu });
  } finally {
    await evm.stop();
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
