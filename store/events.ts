import type pg from 'pg';
import { toHex, type StoredChainedEvent } from '../core/mod.ts';

/** A chained event as stored, with its chain position. */
export interface StoredEvent extends StoredChainedEvent { seq: number }

/** The columns of `events` that make up a StoredEvent, for `SELECT ${EVENT_COLUMNS} FROM events`. */
export const EVENT_COLUMNS = `workspace_id, seq, id, actor_id, actor_name, actor_type, action, action_category,
  resource, resource_id, resource_name, metadata, targets, tenant_id, session_id, idempotency_key, version,
  ip_address, ip_country, ip_city, user_agent, occurred_at, created_at, event_hash, previous_event_hash`;

type EventRow = Omit<StoredEvent, 'event_hash' | 'previous_event_hash'> & { event_hash: Buffer; previous_event_hash: Buffer | null };

export function eventFromRow(row: EventRow): StoredEvent {
  return { ...row, event_hash: toHex(row.event_hash), previous_event_hash: row.previous_event_hash ? toHex(row.previous_event_hash) : null };
}

/** The events of a workspace with seq > `afterSeq`, in chain order, optionally up to a created_at. */
export async function eventsAfter(pool: pg.Pool, workspaceId: string, afterSeq: number, limit: number, until?: string): Promise<StoredEvent[]> {
  const { rows } = await pool.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events
      WHERE workspace_id = $1 AND seq > $2 AND ($4::timestamptz IS NULL OR created_at <= $4)
      ORDER BY seq LIMIT $3`,
    [workspaceId, afterSeq, limit, until ?? null]);
  return rows.map(eventFromRow);
}

/** The last seq before the first event created at or after `from` (0 when none is before). */
export async function seqBefore(pool: pg.Pool, workspaceId: string, from: string): Promise<{ seq: number; eventHash: string | null }> {
  const { rows } = await pool.query<{ seq: number; event_hash: Buffer }>(
    `SELECT seq, event_hash FROM events WHERE workspace_id = $1 AND created_at < $2 ORDER BY created_at DESC, seq DESC LIMIT 1`,
    [workspaceId, from]);
  return rows[0] ? { seq: rows[0].seq, eventHash: toHex(rows[0].event_hash) } : { seq: 0, eventHash: null };
}

/** The workspace's chain head: where the last append left it. */
export async function chainHead(pool: pg.Pool, workspaceId: string): Promise<{ seq: number; eventHash: string | null }> {
  const { rows } = await pool.query<{ seq: number; event_hash: Buffer | null }>('SELECT seq, event_hash FROM chain_heads WHERE workspace_id = $1', [workspaceId]);
  const head = rows[0];
  return { seq: head?.seq ?? 0, eventHash: head?.event_hash ? toHex(head.event_hash) : null };
}

/** The columns of an `events` row in insert order, with their types. */
export const EVENT_ROW_COLUMNS = [
  ['workspace_id', 'uuid'], ['seq', 'bigint'], ['id', 'uuid'], ['batch_id', 'uuid'],
  ['actor_id', 'text'], ['actor_name', 'text'], ['actor_type', 'text'], ['action', 'text'], ['action_category', 'text'],
  ['resource', 'text'], ['resource_id', 'text'], ['resource_name', 'text'], ['metadata', 'jsonb'], ['targets', 'jsonb'],
  ['tenant_id', 'text'], ['session_id', 'text'], ['idempotency_key', 'text'], ['version', 'integer'],
  ['ip_address', 'text'], ['ip_country', 'text'], ['ip_city', 'text'], ['user_agent', 'text'],
  ['occurred_at', 'timestamptz'], ['created_at', 'timestamptz'], ['event_hash', 'bytea'], ['previous_event_hash', 'bytea'],
] as const;

/**
 * Inserts many rows in one statement: one array parameter per column, in EVENT_ROW_COLUMNS order
 * (column-major), so the statement text never grows with the number of rows.
 */
export const INSERT_EVENT_ROWS = `INSERT INTO events (${EVENT_ROW_COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM unnest(${EVENT_ROW_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})`;
