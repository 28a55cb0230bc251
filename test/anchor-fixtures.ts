/**
 * Test data for anchoring: events of past UTC days written straight into a workspace's chain,
 * with real hashes computed by core, so closed days can be anchored without waiting for
 * midnight. The rows are exactly what the append activity would have written.
 */
import type pg from 'pg';
import { computeEventHash, formatTimestamp, fromHex, parseTimestamp, toHex, type ChainedEventFields } from '../core/mod.ts';
import { EVENT_ROW_COLUMNS, INSERT_EVENT_ROWS, inTransaction, type StoredEvent } from '../store/mod.ts';

/**
 * Appends `count` events created on UTC day `day` (from 10:00, 1 ms apart) to the workspace's
 * chain, linked to its current head, and advances the head. Returns them in chain order.
 */
export async function appendDay(pool: pg.Pool, workspaceId: string, day: string, count: number, seed = 'e'): Promise<StoredEvent[]> {
  return await inTransaction(pool, async (client) => {
    const head = (await client.query<{ seq: number; event_hash: Buffer | null }>('SELECT seq, event_hash FROM chain_heads WHERE workspace_id = $1 FOR UPDATE', [workspaceId])).rows[0]!;
    let previous = head.event_hash ? toHex(head.event_hash) : null;
    const start = parseTimestamp(`${day}T10:00:00.000000Z`)!;
    const batchId = crypto.randomUUID();
    const events: StoredEvent[] = [];
    for (let i = 0; i < count; i++) {
      const fields: ChainedEventFields = {
        workspace_id: workspaceId, id: crypto.randomUUID(), actor_id: `user_${i % 5}`, actor_name: 'Sarah Chen', actor_type: 'user',
        action: i % 3 === 0 ? 'document.deleted' : 'document.viewed', action_category: 'documents', resource: 'document',
        resource_id: `doc_${seed}_${i}`, resource_name: 'Q4 Financial Report', metadata: { n: i, seed }, targets: [{ type: 'folder', id: 'f_1' }],
        tenant_id: 'org_1', session_id: `sess_${i % 4}`, idempotency_key: null, version: null, ip_address: '81.2.69.142',
        ip_country: 'GB', ip_city: 'London', user_agent: 'test', occurred_at: formatTimestamp(start + BigInt(i) * 1000n),
        created_at: formatTimestamp(start + BigInt(i) * 1000n + 7n),
      };
      const event_hash = computeEventHash(fields, previous);
      events.push({ ...fields, seq: head.seq + i + 1, event_hash, previous_event_hash: previous });
      previous = event_hash;
    }
    const columns: unknown[][] = EVENT_ROW_COLUMNS.map(() => []);
    for (const e of events) {
      const row = [e.workspace_id, e.seq, e.id, batchId, e.actor_id, e.actor_name, e.actor_type, e.action, e.action_category, e.resource,
        e.resource_id, e.resource_name, JSON.stringify(e.metadata), JSON.stringify(e.targets), e.tenant_id, e.session_id, e.idempotency_key,
        e.version, e.ip_address, e.ip_country, e.ip_city, e.user_agent, e.occurred_at, e.created_at, fromHex(e.event_hash),
        e.previous_event_hash ? fromHex(e.previous_event_hash) : null];
      row.forEach((v, c) => columns[c]!.push(v));
    }
    await client.query(INSERT_EVENT_ROWS, columns);
    const last = events.at(-1)!;
    await client.query('UPDATE chain_heads SET seq = $2, event_hash = $3, created_at = $4 WHERE workspace_id = $1',
      [workspaceId, last.seq, fromHex(last.event_hash), last.created_at]);
    return events;
  });
}

/** Edits stored events past the append-only trigger, as an attacker with database access would. */
export async function tamper(pool: pg.Pool, sql: string, params: unknown[]): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
    await client.query(sql, params);
    await client.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
  });
}

/** Transactions sent so far by an address (its nonce): the test's count of "how many anchors went out". */
export async function sentTransactions(client: { getTransactionCount(a: { address: `0x${string}`; blockTag: 'pending' | 'latest' }): Promise<number> }, address: `0x${string}`): Promise<number> {
  return await client.getTransactionCount({ address, blockTag: 'pending' });
}
