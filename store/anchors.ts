/**
 * Reading anchors and anchor runs (migrations/003_anchors.sql), for the API, the worker and
 * the CLI. Hashes are stored as bytea and come out as lowercase hex; tx hashes and addresses
 * as 0x-prefixed hex, as EVM tools write them.
 */
import type pg from 'pg';
import { toHex, unpackHashes, type AnchorRecord, type AnchorStatus } from '../core/mod.ts';
import { EVENT_COLUMNS, eventFromRow, type StoredEvent } from './events.ts';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** One day's global tree and its transaction. */
export interface AnchorRun {
  id: string;
  period_start: string;
  period_end: string;
  global_root: string;
  anchors_count: number;
  chain: string;
  chain_id: number;
  status: AnchorStatus;
  error: string | null;
  attempts: number;
  signer: `0x${string}` | null;
  nonce: number | null;
  raw_tx: `0x${string}` | null;
  tx_hash: `0x${string}` | null;
  genesis_hash: `0x${string}` | null;
  block_number: number | null;
  block_hash: `0x${string}` | null;
  abandoned_txs: Array<{ tx_hash: string; nonce: number; reason: string; at: string }>;
  unminable_since: string | null;
  created_at: string;
  submitted_at: string | null;
  confirmed_at: string | null;
}

/** One workspace's anchor of one day, with what proofs need. */
export interface StoredAnchor {
  id: string;
  run_id: string;
  workspace_id: string;
  period_start: string;
  period_end: string;
  events_count: number;
  first_seq: number;
  last_seq: number;
  merkle_root: string;
  first_event_hash: string;
  last_event_hash: string;
  previous_anchor_id: string | null;
  previous_anchor_hash: string | null;
  anchor_hash: string;
  subtree_roots: Uint8Array[];
  global_index: number;
  global_path: string[];
  created_at: string;
}

const RUN_COLUMNS = `id, period_start, period_end, global_root, anchors_count, chain, chain_id, status, error, attempts,
  signer, nonce, raw_tx, tx_hash, genesis_hash, block_number, block_hash, abandoned_txs, unminable_since,
  created_at, submitted_at, confirmed_at`;

const ANCHOR_COLUMNS = `id, run_id, workspace_id, period_start, period_end, events_count, first_seq, last_seq, merkle_root,
  first_event_hash, last_event_hash, previous_anchor_id, previous_anchor_hash, anchor_hash, subtree_roots,
  global_index, global_path, created_at`;

/** The anchor columns of table alias `alias`, named `<as><column>` when `as` is given (for joins). */
export const anchorColumns = (alias: string, as = '') => ANCHOR_COLUMNS.split(',').map((c) => `${alias}.${c.trim()}${as ? ` AS ${as}${c.trim()}` : ''}`).join(', ');
export const runColumns = (alias: string) => RUN_COLUMNS.split(',').map((c) => `${alias}.${c.trim()} AS run_${c.trim()}`).join(', ');

const hex0x = (b: Buffer | null): `0x${string}` | null => (b ? `0x${b.toString('hex')}` : null);

export function runFromRow(row: Record<string, unknown>, prefix = ''): AnchorRun {
  const get = (name: string) => row[prefix + name] as never;
  return {
    id: get('id'), period_start: get('period_start'), period_end: get('period_end'), global_root: toHex(get('global_root')),
    anchors_count: get('anchors_count'), chain: get('chain'), chain_id: get('chain_id'), status: get('status'), error: get('error'),
    attempts: get('attempts'), signer: hex0x(get('signer')), nonce: get('nonce'), raw_tx: hex0x(get('raw_tx')), tx_hash: hex0x(get('tx_hash')),
    genesis_hash: hex0x(get('genesis_hash')), block_number: get('block_number'), block_hash: hex0x(get('block_hash')),
    abandoned_txs: get('abandoned_txs'), unminable_since: get('unminable_since'), created_at: get('created_at'),
    submitted_at: get('submitted_at'), confirmed_at: get('confirmed_at'),
  };
}

export function anchorFromRow(row: Record<string, unknown>, prefix = ''): StoredAnchor {
  const get = (name: string) => row[prefix + name] as never;
  const b = (name: string) => row[prefix + name] as Buffer;
  return {
    id: get('id'), run_id: get('run_id'), workspace_id: get('workspace_id'), period_start: get('period_start'), period_end: get('period_end'),
    events_count: get('events_count'), first_seq: get('first_seq'), last_seq: get('last_seq'), merkle_root: toHex(b('merkle_root')),
    first_event_hash: toHex(b('first_event_hash')), last_event_hash: toHex(b('last_event_hash')), previous_anchor_id: get('previous_anchor_id'),
    previous_anchor_hash: b('previous_anchor_hash') ? toHex(b('previous_anchor_hash')) : null,
    anchor_hash: toHex(b('anchor_hash')), subtree_roots: unpackHashes(b('subtree_roots')), global_index: get('global_index'),
    global_path: unpackHashes(b('global_path')).map(toHex), created_at: get('created_at'),
  };
}

/** The hashed record of a stored anchor (docs/integrity.md, "The anchor record"). */
export function anchorRecordOf(a: StoredAnchor): AnchorRecord {
  return {
    v: 1, workspace_id: a.workspace_id, period_start: a.period_start, period_end: a.period_end, events_count: a.events_count,
    merkle_root: a.merkle_root, first_event_hash: a.first_event_hash, last_event_hash: a.last_event_hash,
    previous_anchor_hash: a.previous_anchor_hash,
  };
}

export interface AnchorWithRun { anchor: StoredAnchor; run: AnchorRun }

function withRun(row: Record<string, unknown>): AnchorWithRun {
  return { anchor: anchorFromRow(row), run: runFromRow(row, 'run_') };
}

export async function findRun(db: Queryable, runId: string): Promise<AnchorRun | undefined> {
  const { rows } = await db.query(`SELECT ${RUN_COLUMNS} FROM anchor_runs WHERE id = $1`, [runId]);
  return rows[0] ? runFromRow(rows[0]) : undefined;
}

export async function findRunByPeriod(db: Queryable, periodStart: string): Promise<AnchorRun | undefined> {
  const { rows } = await db.query(`SELECT ${RUN_COLUMNS} FROM anchor_runs WHERE period_start = $1`, [periodStart]);
  return rows[0] ? runFromRow(rows[0]) : undefined;
}

export async function findRunByTxHash(db: Queryable, txHash: string): Promise<AnchorRun | undefined> {
  const { rows } = await db.query(`SELECT ${RUN_COLUMNS} FROM anchor_runs WHERE tx_hash = $1`, [Buffer.from(txHash.slice(2), 'hex')]);
  return rows[0] ? runFromRow(rows[0]) : undefined;
}

/** The latest anchored day, or undefined before the first. */
export async function latestRun(db: Queryable): Promise<AnchorRun | undefined> {
  const { rows } = await db.query(`SELECT ${RUN_COLUMNS} FROM anchor_runs ORDER BY period_start DESC LIMIT 1`);
  return rows[0] ? runFromRow(rows[0]) : undefined;
}

/** An anchor with its run; `workspaceId` confines it to one workspace when given. */
export async function findAnchor(db: Queryable, anchorId: string, workspaceId?: string): Promise<AnchorWithRun | undefined> {
  const { rows } = await db.query(
    `SELECT ${anchorColumns('a')}, ${runColumns('r')} FROM anchors a JOIN anchor_runs r ON r.id = a.run_id
      WHERE a.id = $1 AND ($2::uuid IS NULL OR a.workspace_id = $2)`, [anchorId, workspaceId ?? null]);
  return rows[0] ? withRun(rows[0]) : undefined;
}

/** The workspace's anchors, newest day first, starting before `before` (a period_start) when given. */
export async function listAnchors(db: Queryable, workspaceId: string, limit: number, before?: string): Promise<AnchorWithRun[]> {
  const { rows } = await db.query(
    `SELECT ${anchorColumns('a')}, ${runColumns('r')} FROM anchors a JOIN anchor_runs r ON r.id = a.run_id
      WHERE a.workspace_id = $1 AND ($3::timestamptz IS NULL OR a.period_start < $3)
      ORDER BY a.period_start DESC LIMIT $2`, [workspaceId, limit, before ?? null]);
  return rows.map(withRun);
}

/** The anchors of one run, in global tree order. */
export async function anchorsOfRun(db: Queryable, runId: string): Promise<StoredAnchor[]> {
  const { rows } = await db.query(`SELECT ${ANCHOR_COLUMNS} FROM anchors WHERE run_id = $1 ORDER BY global_index`, [runId]);
  return rows.map((r) => anchorFromRow(r));
}

/** The workspace's latest anchor of a day before `periodStart`: what a new anchor links to. */
export async function previousAnchorOf(db: Queryable, workspaceId: string, periodStart: string): Promise<StoredAnchor | undefined> {
  const { rows } = await db.query(
    `SELECT ${ANCHOR_COLUMNS} FROM anchors WHERE workspace_id = $1 AND period_start < $2 ORDER BY period_start DESC LIMIT 1`,
    [workspaceId, periodStart]);
  return rows[0] ? anchorFromRow(rows[0]) : undefined;
}

/** An anchor by id without its run. */
export async function findStoredAnchor(db: Queryable, anchorId: string): Promise<StoredAnchor | undefined> {
  const { rows } = await db.query(`SELECT ${ANCHOR_COLUMNS} FROM anchors WHERE id = $1`, [anchorId]);
  return rows[0] ? anchorFromRow(rows[0]) : undefined;
}

/** What a proof needs about one event, read in one round trip; see {@link findEventProofData}. */
export interface EventProofData {
  event: StoredEvent;
  /** The anchor whose day holds the event, with its run; undefined when not anchored yet. */
  anchored?: AnchorWithRun;
  /** The stored event hashes of the event's run of 256 leaves, in chain order. */
  runHashes: Uint8Array[];
}

/**
 * The event, the anchor of its day (with the run) and the ≤256 stored event hashes of its
 * run of the tree, in one statement: index lookups on events_id and anchors, and one primary
 * key range, so a proof costs a single round trip.
 */
export async function findEventProofData(db: Queryable, workspaceId: string, eventId: string): Promise<EventProofData | undefined> {
  const { rows } = await db.query({ name: 'sealtrail-event-proof', values: [eventId, workspaceId], text: EVENT_PROOF_SQL });
  const row = rows[0];
  if (!row) return undefined;
  const event = eventFromRow(row);
  const anchored = row.a_id && event.seq >= row.a_first_seq && event.seq <= row.a_last_seq
    ? { anchor: anchorFromRow(row, 'a_'), run: runFromRow(row, 'run_') } : undefined;
  return { event, anchored, runHashes: row.proof_run_hashes ? unpackHashes(row.proof_run_hashes as Buffer) : [] };
}

// A named statement: planning this join costs more than running it, so each connection plans it once.
const EVENT_PROOF_SQL = `SELECT ${EVENT_COLUMNS.split(',').map((c) => `e.${c.trim()}`).join(', ')}, ${anchorColumns('a', 'a_')}, ${runColumns('r')},
            (SELECT string_agg(x.event_hash, ''::bytea ORDER BY x.seq) FROM events x
              WHERE x.workspace_id = e.workspace_id
                AND x.seq BETWEEN a.first_seq + (e.seq - a.first_seq) / 256 * 256
                              AND least(a.last_seq, a.first_seq + (e.seq - a.first_seq) / 256 * 256 + 255)) AS proof_run_hashes
       FROM events e
       LEFT JOIN LATERAL (SELECT * FROM anchors WHERE workspace_id = e.workspace_id AND period_start <= e.created_at AND period_end > e.created_at
                           ORDER BY period_start DESC LIMIT 1) a ON true
       LEFT JOIN anchor_runs r ON r.id = a.run_id
      WHERE e.id = $1::uuid AND e.workspace_id = $2::uuid`;
