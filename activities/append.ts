import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import { computeEventHash, formatTimestamp, fromHex, parseTimestamp, toHex, type AcceptedEvent, type ChainedEventFields } from '../core/mod.ts';
import { EVENT_ROW_COLUMNS, INSERT_EVENT_ROWS, inTransaction } from '../store/mod.ts';
import type { IngestBatchResult } from '../workflows/ids.ts';
import type { Place } from './geo.ts';

/** Per-position geo results of a batch, as the enrichment step returns them. */
export type BatchPlaces = Array<[country: string | null, city: string | null] | null>;

/**
 * Appends inbox batches of one workspace to its chain, in one transaction: lock the chain head,
 * lock the batches, hash each event onto the chain, insert, advance the head, mark the batches
 * appended. Retrying after a crash is safe: a committed attempt left its batches marked appended
 * (they are skipped) and an uncommitted one left nothing at all.
 *
 * Chain order follows hand-off order: with the head locked, every pending batch of the workspace
 * received up to the last of the given ones is appended too, oldest first, so a batch committed
 * later never enters the chain before an earlier one, whichever workflow gets the lock first. (The
 * workflow carrying those batches then finds them appended.) Their places are looked up here.
 *
 * `created_at` is assigned here, under the head lock: the later of the database's clock and the
 * head's last `created_at` plus 1 µs, then +1 µs per position, so chain order and `created_at`
 * order agree.
 */
export async function appendBatchesToChain(pool: pg.Pool, batchIds: readonly string[], places: readonly BatchPlaces[], lookup: (ip: string | null) => Place): Promise<IngestBatchResult> {
  return await inTransaction(pool, async (client) => {
    const owners = (await client.query<{ id: string; workspace_id: string }>(
      'SELECT id, workspace_id FROM ingest_batches WHERE id = ANY($1::uuid[])', [batchIds])).rows;
    const missing = batchIds.filter((id) => !owners.some((row) => row.id === id));
    if (missing.length > 0) throw ApplicationFailure.nonRetryable(`ingest batches ${missing.join(', ')} do not exist`, 'UnknownBatch');
    const workspaceId = owners[0]!.workspace_id;
    if (owners.some((row) => row.workspace_id !== workspaceId)) throw ApplicationFailure.nonRetryable('ingest batches of different workspaces cannot share an append', 'MixedWorkspaces');

    // The head first: every append of the workspace serialises here, so the batch locks below
    // are never contended by another append (no lock-order deadlock).
    // The database's clock, not this worker's: one clock for every append, and the one anchoring
    // uses to decide that a day is closed, so a worker whose clock lags cannot stamp an event
    // into a day already anchored.
    const head = (await client.query<{ seq: number; event_hash: Buffer | null; created_at: string | null; now: string }>(
      'SELECT seq, event_hash, created_at, clock_timestamp() AS now FROM chain_heads WHERE workspace_id = $1 FOR UPDATE', [workspaceId])).rows[0];
    if (!head) throw ApplicationFailure.nonRetryable(`workspace ${workspaceId} has no chain head`, 'NoChainHead');

    // The events come as the inbox's JSON text and are parsed one batch at a time, as they are
    // hashed. An append can carry thousands of events: parsed all at once, they stayed alive
    // through the whole append, and the worker's garbage collector copied them again and again
    // (scavenges of 50-90 ms, with the chain head locked).
    const { rows } = await client.query<{ id: string; status: string; events: string | null; first_seq: number | null; last_seq: number | null }>(
      `SELECT id, status, events::text AS events, first_seq, last_seq FROM ingest_batches
        WHERE id = ANY($2::uuid[])
           OR (workspace_id = $1 AND status = 'pending'
               AND received_at <= (SELECT max(received_at) FROM ingest_batches WHERE id = ANY($2::uuid[])))
        ORDER BY received_at, id FOR UPDATE`, [workspaceId, batchIds]);
    const placesOf = new Map(batchIds.map((id, i) => [id, places[i]]));
    const pending = rows.filter((batch) => batch.status === 'pending');
    const mine = rows.filter((row) => batchIds.includes(row.id));
    if (pending.length === 0) {
      return { batchIds: [...batchIds], appended: 0, firstSeq: Math.min(...mine.map((r) => r.first_seq!)), lastSeq: Math.max(...mine.map((r) => r.last_seq!)) };
    }

    const headMicros = head.created_at ? parseTimestamp(head.created_at)! : -1n;
    const now = parseTimestamp(head.now)!;
    const start = now > headMicros ? now : headMicros + 1n;
    let previous = head.event_hash ? toHex(head.event_hash) : null;
    const ranges = { ids: [] as string[], first: [] as number[], last: [] as number[] };
    const inserts = new ChunkedInsert(client);
    let position = 0;
    for (const batch of pending) {
      const events = JSON.parse(batch.events!) as AcceptedEvent[];
      const batchPlaces = placesOf.get(batch.id) ?? events.map((event) => placeOf(event.ip_address, lookup));
      ranges.ids.push(batch.id);
      ranges.first.push(head.seq + position + 1);
      for (const [i, event] of events.entries()) {
        const place = batchPlaces[i];
        const fields: ChainedEventFields = {
          ...event,
          workspace_id: workspaceId,
          ip_country: place?.[0] ?? null,
          ip_city: place?.[1] ?? null,
          created_at: formatTimestamp(start + BigInt(position)),
        };
        const hash = computeEventHash(fields, previous);
        await inserts.add([
          workspaceId, head.seq + position + 1, event.id, batch.id,
          fields.actor_id, fields.actor_name, fields.actor_type, fields.action, fields.action_category,
          fields.resource, fields.resource_id, fields.resource_name, JSON.stringify(fields.metadata), JSON.stringify(fields.targets),
          fields.tenant_id, fields.session_id, fields.idempotency_key, fields.version,
          fields.ip_address, fields.ip_country, fields.ip_city, fields.user_agent,
          fields.occurred_at, fields.created_at, fromHex(hash), previous === null ? null : fromHex(previous),
        ]);
        previous = hash;
        position++;
      }
      ranges.last.push(head.seq + position);
    }
    await inserts.finish();
    const total = position;

    await client.query('UPDATE chain_heads SET seq = $2, event_hash = $3, created_at = $4 WHERE workspace_id = $1',
      [workspaceId, head.seq + total, fromHex(previous!), formatTimestamp(start + BigInt(total - 1))]);
    await client.query(
      `UPDATE ingest_batches b SET status = 'appended', appended_at = clock_timestamp(), events = NULL, event_ids = NULL, ip_addresses = NULL,
              first_seq = r.first_seq, last_seq = r.last_seq
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS r (id, first_seq, last_seq) WHERE b.id = r.id`,
      [ranges.ids, ranges.first, ranges.last]);
    return { batchIds: [...batchIds], appended: total, firstSeq: head.seq + 1, lastSeq: head.seq + total };
  });
}

/** Looks up every event's IP address, per batch; events without one (or batches already appended) get nothing. */
export async function placesOfBatches(pool: pg.Pool, batchIds: readonly string[], lookup: (ip: string | null) => Place): Promise<BatchPlaces[]> {
  // The addresses the API wrote beside the events (migration 006); a batch handed off before that
  // has only its events' JSON to read them from.
  const { rows } = await pool.query<{ id: string; ips: Array<string | null> | null }>(
    `SELECT id, coalesce(ip_addresses,
              ARRAY(SELECT e.value ->> 'ip_address' FROM json_array_elements(events) WITH ORDINALITY AS e ORDER BY e.ordinality)) AS ips
       FROM ingest_batches WHERE id = ANY($1::uuid[]) AND status = 'pending'`, [batchIds]);
  const ipsOf = new Map(rows.map((row) => [row.id, row.ips ?? []]));
  return batchIds.map((id) => (ipsOf.get(id) ?? []).map((ip) => placeOf(ip, lookup)));
}

/** One event's entry in BatchPlaces: null when it has no address or the address has no place. */
function placeOf(ip: string | null, lookup: (ip: string | null) => Place): BatchPlaces[number] {
  if (!ip) return null;
  const place = lookup(ip);
  return place.country === null && place.city === null ? null : [place.country, place.city];
}

/** Events per INSERT of an append: big enough to amortise a statement, small enough to stay young garbage. */
const APPEND_CHUNK = 500;

/**
 * The rows of one append, sent as INSERTs of up to APPEND_CHUNK rows, one statement at a time and
 * in chain order, on the append's connection. A chunk is sent without waiting for it, so the
 * next one is hashed while PostgreSQL inserts this one; a failed INSERT fails the next `add` or
 * `finish`, and so the append's transaction.
 */
class ChunkedInsert {
  #columns: unknown[][] = EVENT_ROW_COLUMNS.map(() => []);
  #inFlight: Promise<unknown> = Promise.resolve();
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  /** Adds one row (its values in EVENT_ROW_COLUMNS order); sends the chunk once it is full. */
  async add(row: readonly unknown[]): Promise<void> {
    row.forEach((value, c) => this.#columns[c]!.push(value));
    if (this.#columns[0]!.length >= APPEND_CHUNK) await this.#send();
  }

  /** Sends what is left and waits until every chunk is inserted. */
  async finish(): Promise<void> {
    if (this.#columns[0]!.length > 0) await this.#send();
    await this.#inFlight;
  }

  async #send(): Promise<void> {
    const columns = this.#columns;
    this.#columns = EVENT_ROW_COLUMNS.map(() => []);
    await this.#inFlight;
    this.#inFlight = this.#client.query(INSERT_EVENT_ROWS, columns);
    // Awaited by the next send or by finish; until then, a failure is not an unhandled rejection.
    this.#inFlight.catch(() => {});
  }
}
