/**
 * Building a day's anchors: one tree per workspace with events that day, chained to the
 * workspace's previous anchor, all under one global tree, stored as one run. Idempotent: a
 * day already prepared is returned as it is, so a retried or repeated run never builds a
 * second global root for the same day.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import {
  anchorRecordHash, buildDayTree, buildGlobalTree, dayPeriod, fromHex, packHashes, toHex, unpackHashes, type AnchorRecord,
} from '../../core/mod.ts';
import { findRunByPeriod, inTransaction, latestRun, previousAnchorOf } from '../../store/mod.ts';

/** Serialises preparing runs, so anchors always link to the previous day's final anchors. */
const ANCHOR_PREPARE_LOCK = 7_411_903;

export interface PreparedRun {
  day: string;
  /** null for a day without events anywhere: nothing is stored or sent. */
  runId: string | null;
  anchors: number;
  events: number;
  globalRoot: string | null;
  /** The run existed already (a retry, or the day was anchored before). */
  existing: boolean;
}

interface BuiltAnchor {
  wd: WorkspaceDay;
  tree: ReturnType<typeof buildDayTree>;
  record: AnchorRecord;
  hash: string;
  previousId: string | null;
}

interface WorkspaceDay {
  workspaceId: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
  hashes: Uint8Array[];
}

/**
 * Prepares the anchors of UTC day `day` (`YYYY-MM-DD`) for chain `chain`. Fails without
 * retry (`DayNotClosed`) for a day that has not ended, and (`AnchorOutOfOrder`) for a day
 * before one already anchored: anchors link to their predecessor, so days go in order.
 */
export async function prepareAnchorRun(pool: pg.Pool, chain: { name: string; chainId: number }, day: string): Promise<PreparedRun> {
  const period = dayPeriod(day);
  if (!period) throw ApplicationFailure.nonRetryable(`'${day}' is not a date (YYYY-MM-DD)`, 'InvalidDay');
  const existing = await findRunByPeriod(pool, period.period_start);
  if (existing) return summary(day, existing.id, existing.anchors_count, existing.global_root, true, pool);

  const { rows: [clock] } = await pool.query<{ closed: boolean }>('SELECT now() >= $1::timestamptz AS closed', [period.period_end]);
  if (!clock!.closed) {
    throw ApplicationFailure.nonRetryable(`day ${day} is not over yet; it can be anchored from ${period.period_end}`, 'DayNotClosed');
  }
  await waitForInFlightAppends(pool);

  return await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ANCHOR_PREPARE_LOCK]);
    const raced = await findRunByPeriod(client, period.period_start);
    if (raced) return summary(day, raced.id, raced.anchors_count, raced.global_root, true);
    const latest = await latestRun(client);
    if (latest && latest.period_start > period.period_start) {
      throw ApplicationFailure.nonRetryable(
        `day ${day} comes before ${latest.period_start.slice(0, 10)}, which is already anchored; days are anchored in order`, 'AnchorOutOfOrder');
    }
    const days = await workspaceDays(client, period.period_start, period.period_end);
    if (days.length === 0) return { day, runId: null, anchors: 0, events: 0, globalRoot: null, existing: false };

    const built: BuiltAnchor[] = [];
    for (const wd of days) {
      const tree = buildDayTree(wd.hashes);
      const previous = await previousAnchorOf(client, wd.workspaceId, period.period_start);
      const record: AnchorRecord = {
        v: 1, workspace_id: wd.workspaceId, ...period, events_count: wd.count, merkle_root: tree.merkleRoot,
        first_event_hash: toHex(wd.hashes[0]!), last_event_hash: toHex(wd.hashes[wd.count - 1]!),
        previous_anchor_hash: previous?.anchor_hash ?? null,
      };
      built.push({ wd, tree, record, hash: anchorRecordHash(record), previousId: previous?.id ?? null });
    }
    const global = buildGlobalTree(built.map((b) => b.hash));
    const runId = crypto.randomUUID();
    await client.query(
      `INSERT INTO anchor_runs (id, period_start, period_end, global_root, anchors_count, chain, chain_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [runId, period.period_start, period.period_end, fromHex(global.root), built.length, chain.name, chain.chainId]);
    const column = <T>(pick: (b: BuiltAnchor, i: number) => T) => built.map(pick);
    await client.query(
      `INSERT INTO anchors (id, run_id, workspace_id, period_start, period_end, events_count, first_seq, last_seq, merkle_root,
         first_event_hash, last_event_hash, previous_anchor_id, previous_anchor_hash, anchor_hash, subtree_roots, global_index, global_path)
       SELECT a.id, $2, a.workspace_id, $3, $4, a.events_count, a.first_seq, a.last_seq, a.merkle_root, a.first_event_hash,
              a.last_event_hash, a.previous_anchor_id, a.previous_anchor_hash, a.anchor_hash, a.subtree_roots, a.global_index, a.global_path
         FROM unnest($1::uuid[], $5::uuid[], $6::int[], $7::bigint[], $8::bigint[], $9::bytea[], $10::bytea[], $11::bytea[],
                     $12::uuid[], $13::bytea[], $14::bytea[], $15::bytea[], $16::int[], $17::bytea[])
           AS a (id, workspace_id, events_count, first_seq, last_seq, merkle_root, first_event_hash, last_event_hash,
                 previous_anchor_id, previous_anchor_hash, anchor_hash, subtree_roots, global_index, global_path)`,
      [
        column(() => crypto.randomUUID()), runId, period.period_start, period.period_end,
        column((b) => b.wd.workspaceId), column((b) => b.wd.count), column((b) => b.wd.firstSeq), column((b) => b.wd.lastSeq),
        column((b) => fromHex(b.record.merkle_root)), column((b) => fromHex(b.record.first_event_hash)),
        column((b) => fromHex(b.record.last_event_hash)), column((b) => b.previousId),
        column((b) => (b.record.previous_anchor_hash ? fromHex(b.record.previous_anchor_hash) : null)),
        column((b) => fromHex(b.hash)), column((b) => packHashes(b.tree.subtreeRoots)), column((_, i) => i),
        column((_, i) => packHashes(global.proofs[i]!.path.map(fromHex))),
      ]);
    return { day, runId, anchors: built.length, events: days.reduce((n, d) => n + d.count, 0), globalRoot: global.root, existing: false };
  });
}

async function summary(day: string, runId: string, anchors: number, globalRoot: string, existing: boolean, pool?: Pick<pg.Pool, 'query'>): Promise<PreparedRun> {
  let events = 0;
  if (pool) {
    const { rows } = await pool.query<{ n: number }>('SELECT coalesce(sum(events_count), 0)::int AS n FROM anchors WHERE run_id = $1', [runId]);
    events = rows[0]!.n;
  }
  return { day, runId, anchors, events, globalRoot, existing };
}

/**
 * Waits for appends that hold a chain head now. Appends stamp created_at under that lock, so
 * once it is taken here after the day ended, no event of the day can still be on its way.
 */
async function waitForInFlightAppends(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM chain_heads FOR SHARE');
  });
}

/** Each workspace's events of the period, in chain order, as raw event hashes. */
async function workspaceDays(client: pg.PoolClient, periodStart: string, periodEnd: string): Promise<WorkspaceDay[]> {
  const { rows: workspaces } = await client.query<{ id: string }>(
    `SELECT w.id FROM workspaces w
      WHERE EXISTS (SELECT 1 FROM events e WHERE e.workspace_id = w.id AND e.created_at >= $1 AND e.created_at < $2)
      ORDER BY w.id`, [periodStart, periodEnd]);
  const days: WorkspaceDay[] = [];
  for (const { id } of workspaces) {
    // created_at grows with seq, so the day is the seq range between its first and last
    // event; its hashes come from events_hash_by_seq as one aggregated bytea (index-only).
    const { rows } = await client.query<{ first_seq: number; last_seq: number; hashes: Buffer; n: number }>(
      `WITH bounds AS (
         SELECT (SELECT seq FROM events WHERE workspace_id = $1 AND created_at >= $2 ORDER BY created_at LIMIT 1) AS first_seq,
                (SELECT seq FROM events WHERE workspace_id = $1 AND created_at < $3 ORDER BY created_at DESC LIMIT 1) AS last_seq)
       SELECT b.first_seq, b.last_seq, count(*)::int AS n, string_agg(e.event_hash, ''::bytea ORDER BY e.seq) AS hashes
         FROM bounds b JOIN events e ON e.workspace_id = $1 AND e.seq BETWEEN b.first_seq AND b.last_seq
        GROUP BY b.first_seq, b.last_seq`, [id, periodStart, periodEnd]);
    const row = rows[0]!;
    if (row.last_seq - row.first_seq + 1 !== row.n) {
      throw ApplicationFailure.nonRetryable(
        `workspace ${id}: the events of ${periodStart.slice(0, 10)} are not a contiguous run of the chain (seq ${row.first_seq}..${row.last_seq}, ${row.n} events)`,
        'ChainOrderBroken');
    }
    days.push({ workspaceId: id, count: row.n, firstSeq: row.first_seq, lastSeq: row.last_seq, hashes: unpackHashes(row.hashes) });
  }
  // Global leaves in workspace id order; sorted here too so the order is defined by the
  // documented rule (lowercase uuid text), not by the database's collation.
  return days.sort((a, b) => (a.workspaceId < b.workspaceId ? -1 : a.workspaceId > b.workspaceId ? 1 : 0));
}

/**
 * The closed UTC days (before today) that have events and come after the last anchored day,
 * oldest first, at most `limit`: what the daily schedule catches up on. Days without events
 * anywhere are skipped: they are never anchored.
 */
export async function closedDaysToAnchor(pool: pg.Pool, limit: number): Promise<string[]> {
  const latest = await latestRun(pool);
  let cursor = latest?.period_end ?? '1970-01-01T00:00:00.000000Z';
  const { rows: [today] } = await pool.query<{ start: string }>(`SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start`);
  const days: string[] = [];
  while (days.length < limit) {
    // One index probe per workspace (events_created), not a scan of the events table.
    const { rows: [next] } = await pool.query<{ at: string | null }>(
      `SELECT min(e.created_at) AS at FROM workspaces w
         CROSS JOIN LATERAL (SELECT created_at FROM events WHERE workspace_id = w.id AND created_at >= $1 ORDER BY created_at LIMIT 1) e`,
      [cursor]);
    if (!next?.at || next.at >= today!.start) break;
    const day = next.at.slice(0, 10);
    days.push(day);
    cursor = dayPeriod(day)!.period_end;
  }
  return days;
}
