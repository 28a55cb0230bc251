import type pg from 'pg';
import type { AcceptedEvent } from '../core/mod.ts';
import { keysStillValid } from './api-keys.ts';
import { inTransaction } from './pool.ts';

export type ReceiptStatus = 'queued' | 'duplicate';
export interface Receipt { id: string; status: ReceiptStatus }

export interface InboxWrite {
  /** One receipt per input event, in input order. */
  receipts: Receipt[];
  /** The events written to the inbox (duplicates left out); empty when all were duplicates. */
  stored: number;
}

/**
 * Thrown by {@link writeInboxBatch} when API keys it was to check are revoked (or gone): nothing
 * was written. `revoked` holds those keys, never none of them.
 */
export class KeysRevoked extends Error {
  override name = 'KeysRevoked';
  readonly revoked: ReadonlySet<string>;
  constructor(revoked: ReadonlySet<string>) {
    super('an API key of this write is revoked');
    this.revoked = revoked;
  }
}

/**
 * The durable hand-off: writes one inbox batch and its idempotency keys in one transaction.
 * An idempotency key seen before in the workspace (committed by anyone, or earlier in this same
 * list) makes its event a duplicate: it is not stored, and its receipt carries the original id.
 * Nothing is written when the transaction fails, so the caller may answer 503 and a retry is safe.
 * `requestKeyIds` are API keys to check in the very write (requests whose key was not looked up
 * on arrival, see api/auth.ts; repeats allowed): if some are revoked, nothing is written and
 * {@link KeysRevoked} names them.
 */
export async function writeInboxBatch(pool: pg.Pool, batchId: string, workspaceId: string, events: readonly AcceptedEvent[], requestKeyIds: readonly string[] = []): Promise<InboxWrite> {
  const keyIds = [...new Set(requestKeyIds)]; // counted against the valid ones below
  const receipts: Receipt[] = events.map((e) => ({ id: e.id, status: 'queued' }));
  // First occurrence of a key within the list wins.
  const firstByKey = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.idempotency_key === null) return;
    const first = firstByKey.get(e.idempotency_key);
    if (first === undefined) firstByKey.set(e.idempotency_key, i);
    else receipts[i] = { id: events[first]!.id, status: 'duplicate' };
  });

  // Without idempotency keys there is one statement to run, and a statement is atomic on its own:
  // one round trip instead of BEGIN, INSERT, COMMIT.
  if (firstByKey.size === 0) {
    if (!await insertBatch(pool, batchId, workspaceId, events, keyIds)) throw await refusal(pool, keyIds);
    return { receipts, stored: events.length };
  }

  return await inTransaction(pool, async (client) => {
    {
      // Sorted, so concurrent hand-offs sharing keys take their locks in one order (no deadlock).
      const keys = [...firstByKey.keys()].sort();
      const claimed = await client.query<{ key: string }>(
        `INSERT INTO idempotency_keys (workspace_id, key, event_id, batch_id)
         SELECT $1, k, i, $2 FROM unnest($3::text[], $4::uuid[]) AS t (k, i)
         ON CONFLICT (workspace_id, key) DO NOTHING RETURNING key`,
        [workspaceId, batchId, keys, keys.map((k) => events[firstByKey.get(k)!]!.id)],
      );
      if (claimed.rowCount !== keys.length) {
        const mine = new Set(claimed.rows.map((r) => r.key));
        const taken = keys.filter((k) => !mine.has(k));
        const { rows } = await client.query<{ key: string; event_id: string }>(
          'SELECT key, event_id FROM idempotency_keys WHERE workspace_id = $1 AND key = ANY($2::text[])',
          [workspaceId, taken],
        );
        const original = new Map(rows.map((r) => [r.key, r.event_id]));
        events.forEach((e, i) => {
          const id = e.idempotency_key === null ? undefined : original.get(e.idempotency_key);
          if (id !== undefined) receipts[i] = { id, status: 'duplicate' };
        });
      }
    }
    // The API keys are checked by the last statement, the batch's INSERT (by a query of their own
    // when every event was a duplicate); a refusal rolls back the idempotency keys too.
    const fresh = events.filter((_, i) => receipts[i]!.status === 'queued');
    if (fresh.length === 0) {
      const revoked = await revokedKeys(client, keyIds);
      if (revoked.size > 0) throw new KeysRevoked(revoked);
    } else if (!await insertBatch(client, batchId, workspaceId, fresh, keyIds)) {
      throw await refusal(client, keyIds);
    }
    return { receipts, stored: fresh.length };
  });
}

/**
 * Inserts the batch, only if every one of `keyIds` is still a valid API key (checked by the same
 * statement, so an accepted write and the key's check are one); false when it inserted nothing.
 */
async function insertBatch(db: pg.Pool | pg.PoolClient, batchId: string, workspaceId: string, events: readonly AcceptedEvent[], keyIds: readonly string[]): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO ingest_batches (id, workspace_id, events_count, event_ids, events, ip_addresses)
     SELECT $1, $2, $3, $4::uuid[], $5::json, $7::text[]
      WHERE ${keysStillValid('$6')}`,
    [batchId, workspaceId, events.length, events.map((e) => e.id), JSON.stringify(events), keyIds, events.map((e) => e.ip_address)],
  );
  return rowCount === 1;
}

/**
 * Why a write checking `keyIds` was refused: {@link KeysRevoked} with the revoked ones. A revoked
 * key stays revoked, so this finds it; should none be, the write just failed (and may be retried).
 */
async function refusal(db: pg.Pool | pg.PoolClient, keyIds: readonly string[]): Promise<Error> {
  const revoked = await revokedKeys(db, keyIds);
  return revoked.size > 0 ? new KeysRevoked(revoked) : new Error('the inbox write was refused, yet every API key of it is valid');
}

/** Those of `keyIds` that are not valid API keys (revoked, or gone). */
async function revokedKeys(db: pg.Pool | pg.PoolClient, keyIds: readonly string[]): Promise<Set<string>> {
  if (keyIds.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>('SELECT id FROM api_keys WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL', [keyIds]);
  const valid = new Set(rows.map((r) => r.id));
  return new Set(keyIds.filter((id) => !valid.has(id)));
}

export interface PendingBatch { id: string; workspace_id: string }

/** Batches handed off at least `minAgeSeconds` ago and not yet in the chain. */
export async function findPendingBatches(pool: pg.Pool, minAgeSeconds: number, limit = 500): Promise<PendingBatch[]> {
  const { rows } = await pool.query<PendingBatch>(
    `SELECT id, workspace_id FROM ingest_batches
      WHERE status = 'pending' AND received_at < clock_timestamp() - make_interval(secs => $1)
      ORDER BY received_at LIMIT $2`,
    [minAgeSeconds, limit],
  );
  return rows;
}

/** True when the event was accepted into the workspace's inbox and is not in the chain yet. */
export async function isQueued(pool: pg.Pool, workspaceId: string, eventId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `SELECT 1 FROM ingest_batches WHERE workspace_id = $1 AND status = 'pending' AND $2::uuid = ANY(event_ids) LIMIT 1`,
    [workspaceId, eventId],
  );
  return rowCount === 1;
}
