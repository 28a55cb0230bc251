import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import { computeEventHash, formatTimestamp, fromHex, nowMicros, parseTimestamp, toHex, type AcceptedEvent, type ChainedEventFields } from '../core/mod.ts';
import { EVENT_ROW_COLUMNS, INSERT_EVENT_ROWS, inTransaction } from '../store/mod.ts';
import type { IngestBatchResult } from '../workflows/ids.ts';
import type { Place } from './geo.ts';

/** Per-position geo results of a batch, as the enrichment step returns them. */
export type BatchPlaces = Array<[country: string | null, city: string | null] | null>;

/**
 * Appends an inbox batch to its workspace's chain, in one transaction: lock the batch, lock the
 * chain head, hash each event onto the chain in input order, insert, advance the head, mark the
 * batch appended. Retrying after a crash is safe: a committed attempt left the batch marked
 * appended (so the retry does nothing) and an uncommitted one left nothing at all.
 *
 * `created_at` is assigned here, under the head lock: the later of now and the head's last
 * `created_at` plus 1 µs, then +1 µs per position, so chain order and `created_at` order agree.
 */
export async function appendBatchToChain(pool: pg.Pool, batchId: string, places: BatchPlaces): Promise<IngestBatchResult> {
  return await inTransaction(pool, async (client) => {
    const batch = (await client.query<{ workspace_id: string; status: string; events: AcceptedEvent[] | null; first_seq: number | null; last_seq: number | null }>(
      'SELECT workspace_id, status, events, first_seq, last_seq FROM ingest_batches WHERE id = $1 FOR UPDATE', [batchId])).rows[0];
    if (!batch) throw ApplicationFailure.nonRetryable(`ingest batch ${batchId} does not exist`, 'UnknownBatch');
    if (batch.status === 'appended') return { batchId, appended: 0, firstSeq: batch.first_seq, lastSeq: batch.last_seq };
    const events = batch.events!;

    const head = (await client.query<{ seq: number; event_hash: Buffer | null; created_at: string | null }>(
      'SELECT seq, event_hash, created_at FROM chain_heads WHERE workspace_id = $1 FOR UPDATE', [batch.workspace_id])).rows[0];
    if (!head) throw ApplicationFailure.nonRetryable(`workspace ${batch.workspace_id} has no chain head`, 'NoChainHead');

    const headMicros = head.created_at ? parseTimestamp(head.created_at)! : -1n;
    const now = nowMicros();
    const start = now > headMicros ? now : headMicros + 1n;
    let previous = head.event_hash ? toHex(head.event_hash) : null;
    const columns: unknown[][] = EVENT_ROW_COLUMNS.map(() => new Array(events.length));
    events.forEach((event, i) => {
      const place = places[i];
      const fields: ChainedEventFields = {
        ...event,
        workspace_id: batch.workspace_id,
        ip_country: place?.[0] ?? null,
        ip_city: place?.[1] ?? null,
        created_at: formatTimestamp(start + BigInt(i)),
      };
      const hash = computeEventHash(fields, previous);
      const row = [
        batch.workspace_id, head.seq + i + 1, event.id, batchId,
        fields.actor_id, fields.actor_name, fields.actor_type, fields.action, fields.action_category,
        fields.resource, fields.resource_id, fields.resource_name, JSON.stringify(fields.metadata), JSON.stringify(fields.targets),
        fields.tenant_id, fields.session_id, fields.idempotency_key, fields.version,
        fields.ip_address, fields.ip_country, fields.ip_city, fields.user_agent,
        fields.occurred_at, fields.created_at, fromHex(hash), previous === null ? null : fromHex(previous),
      ];
      row.forEach((value, c) => { columns[c]![i] = value; });
      previous = hash;
    });
    await client.query(INSERT_EVENT_ROWS, columns);

    const firstSeq = head.seq + 1;
    const lastSeq = head.seq + events.length;
    await client.query('UPDATE chain_heads SET seq = $2, event_hash = $3, created_at = $4 WHERE workspace_id = $1',
      [batch.workspace_id, lastSeq, fromHex(previous!), formatTimestamp(start + BigInt(events.length - 1))]);
    await client.query(
      `UPDATE ingest_batches SET status = 'appended', appended_at = clock_timestamp(), events = NULL, event_ids = NULL,
              first_seq = $2, last_seq = $3 WHERE id = $1`,
      [batchId, firstSeq, lastSeq]);
    return { batchId, appended: events.length, firstSeq, lastSeq };
  });
}

/** Looks up every event's IP address; events without one get null. */
export async function placesOfBatch(pool: pg.Pool, batchId: string, lookup: (ip: string | null) => Place): Promise<BatchPlaces> {
  const { rows } = await pool.query<{ ips: Array<string | null> | null }>(
    `SELECT jsonb_path_query_array(events, '$[*].ip_address') AS ips FROM ingest_batches WHERE id = $1 AND status = 'pending'`, [batchId]);
  const ips = rows[0]?.ips ?? [];
  return ips.map((ip) => {
    if (!ip) return null;
    const place = lookup(ip);
    return place.country === null && place.city === null ? null : [place.country, place.city];
  });
}
