/**
 * Daily anchoring end to end, against real PostgreSQL, Temporal and a local EVM node: the
 * workflow, the stored anchors, the transaction on chain, and the anchor endpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import {
  anchorRecordHash, checkAnchorTransaction, decodeAnchorPayload, verifyBundle, verifyEventProof,
  type BundleEventLine, type BundleHeader, type EventProof,
} from '../core/mod.ts';
import { readAnchorTransaction } from '../activities/mod.ts';
import type { StoredEvent } from '../store/mod.ts';
import { appendDay, sentTransactions, tamper } from './anchor-fixtures.ts';
import { createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;
let signer: `0x${string}`;
beforeAll(async () => {
  ctx = await createTestContext({ anchoring: { publicRateLimit: { perMinute: 600, burst: 100 } } });
  signer = ctx.chain!.account!.address;
});
afterAll(async () => { await ctx.close(); });

const DAY1 = '2026-02-02';
const DAY2 = '2026-02-03';
const EMPTY_DAY = '2026-02-04';
const DAY4 = '2026-02-05';

let alice: { workspaceId: string; key: string };
let bob: { workspaceId: string; key: string };
let carol: { workspaceId: string; key: string };
let aliceDay1: StoredEvent[];
let aliceDay2: StoredEvent[];

async function anchorsOf(key: string) {
  const res = await ctx.api(key, '/api/v1/anchors');
  expect(res.status).toBe(200);
  return res.body.data as Array<Record<string, any>>;
}

describe('anchoring a closed day', () => {
  beforeAll(async () => {
    [alice, bob, carol] = [await ctx.workspace(['read']), await ctx.workspace(['read']), await ctx.workspace(['read'])];
    aliceDay1 = await appendDay(ctx.pool, alice.workspaceId, DAY1, 300, 'a1');
    await appendDay(ctx.pool, bob.workspaceId, DAY1, 5, 'b1');
    aliceDay2 = await appendDay(ctx.pool, alice.workspaceId, DAY2, 40, 'a2');
  });

  it('puts every workspace with events that day under one root, sent in exactly one confirmed transaction', async () => {
    const before = await sentTransactions(ctx.chain!.client, signer);
    const result = await ctx.anchorDay(DAY1);
    expect(result).toMatchObject({ day: DAY1, status: 'confirmed', anchors: 2, events: 305, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(await sentTransactions(ctx.chain!.client, signer)).toBe(before + 1);

    const tx = await ctx.chain!.client.getTransaction({ hash: result.txHash as `0x${string}` });
    expect(tx.from.toLowerCase()).toBe(signer.toLowerCase());
    expect(decodeAnchorPayload(tx.input)).toEqual({ ok: true, globalRoot: result.globalRoot, day: DAY1, treeSize: 2 });

    const [anchor] = await anchorsOf(alice.key);
    expect(anchor).toMatchObject({
      events_count: 300, period_start: `${DAY1}T00:00:00.000000Z`, period_end: `${DAY2}T00:00:00.000000Z`, chain: 'local',
      status: 'confirmed', tx_hash: result.txHash, block_number: result.blockNumber, previous_anchor_hash: null, error: null,
    });
    expect(await anchorsOf(carol.key)).toEqual([]);
  });

  it('shows the anchor detail with its end hashes and its hash over the record', async () => {
    const [listed] = await anchorsOf(alice.key);
    const res = await ctx.api(alice.key, `/api/v1/anchors/${listed!.id}`);
    expect(res.body.data).toMatchObject({ first_event_hash: aliceDay1[0]!.event_hash, last_event_hash: aliceDay1.at(-1)!.event_hash, global_size: 2 });
    const { v, ...rest } = { v: 1 as const, workspace_id: alice.workspaceId, period_start: listed!.period_start, period_end: listed!.period_end,
      events_count: 300, merkle_root: listed!.merkle_root, first_event_hash: aliceDay1[0]!.event_hash, last_event_hash: aliceDay1.at(-1)!.event_hash, previous_anchor_hash: null };
    expect(res.body.data.anchor_hash).toBe(anchorRecordHash({ v, ...rest }));
    expect((await ctx.api(bob.key, `/api/v1/anchors/${listed!.id}`)).status).toBe(404);
  });

  it('links the next day\'s anchor to the previous one, newest first in the list', async () => {
    await ctx.anchorDay(DAY2);
    const [second, first] = await anchorsOf(alice.key);
    expect(second).toMatchObject({ period_start: `${DAY2}T00:00:00.000000Z`, events_count: 40 });
    const firstDetail = (await ctx.api(alice.key, `/api/v1/anchors/${first!.id}`)).body.data;
    expect(second!.previous_anchor_hash).toBe(firstDetail.anchor_hash);
    const page = await ctx.api(alice.key, '/api/v1/anchors?limit=1');
    expect(page.body.pagination.has_more).toBe(true);
    const next = await ctx.api(alice.key, `/api/v1/anchors?limit=1&cursor=${page.body.pagination.next_cursor}`);
    expect(next.body.data.map((a: { id: string }) => a.id)).toEqual([first!.id]);
  });

  it('sends nothing more when a day is anchored again', async () => {
    const before = await sentTransactions(ctx.chain!.client, signer);
    const again = await ctx.anchorDay(DAY1);
    expect(again.status).toBe('confirmed');
    expect(await sentTransactions(ctx.chain!.client, signer)).toBe(before);
  });

  it('stores and sends nothing for a day without events anywhere', async () => {
    const before = await sentTransactions(ctx.chain!.client, signer);
    expect(await ctx.anchorDay(EMPTY_DAY)).toMatchObject({ status: 'empty', runId: null, anchors: 0 });
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM anchor_runs WHERE period_start = $1', [`${EMPTY_DAY}T00:00:00Z`]);
    expect(rows[0].n).toBe(0);
    expect(await sentTransactions(ctx.chain!.client, signer)).toBe(before);
  });

  it('refuses a day that is not over yet, and a day before one already anchored', async () => {
    const today = new Date().toISOString().slice(0, 10);
    await expect(ctx.anchorDay(today)).rejects.toThrow(WorkflowFailedError);
    await expect(ctx.anchorDay('2026-01-15')).rejects.toThrow(WorkflowFailedError);
  });
});

describe('GET /api/v1/anchors/{id}/verify', () => {
  it('answers valid, chain_valid and onchain_valid from the stored events and the chain itself', async () => {
    const [latest] = await anchorsOf(alice.key);
    const res = await ctx.api(alice.key, `/api/v1/anchors/${latest!.id}/verify`);
    expect(res.body.data).toMatchObject({
      anchor_id: latest!.id, merkle_root: latest!.merkle_root, valid: true, chain_valid: true, onchain_valid: true,
      expected: latest!.merkle_root, actual: latest!.merkle_root, events_count: 40, tx_hash: latest!.tx_hash, problems: [],
    });
  });

  it('reports a stored event changed after anchoring, while the anchor chain and the chain stay valid', async () => {
    const [latest] = await anchorsOf(alice.key);
    await tamper(ctx.pool, `UPDATE events SET actor_name = 'Mallory' WHERE id = $1`, [aliceDay2[7]!.id]);
    try {
      const { data } = (await ctx.api(alice.key, `/api/v1/anchors/${latest!.id}/verify`)).body;
      expect(data).toMatchObject({ valid: false, chain_valid: true, onchain_valid: true, expected: latest!.merkle_root });
      expect(data.actual).not.toBe(latest!.merkle_root);
      expect(data.problems.map((p: { code: string }) => p.code)).toEqual(['hash_mismatch', 'root_mismatch']);
    } finally {
      await tamper(ctx.pool, `UPDATE events SET actor_name = 'Sarah Chen' WHERE id = $1`, [aliceDay2[7]!.id]);
    }
  });

  it('reports a deleted event', async () => {
    const [, first] = await anchorsOf(alice.key);
    const victim = aliceDay1[100]!;
    await tamper(ctx.pool, 'DELETE FROM events WHERE id = $1', [victim.id]);
    try {
      const { data } = (await ctx.api(alice.key, `/api/v1/anchors/${first!.id}/verify`)).body;
      expect(data).toMatchObject({ valid: false, events_checked: 299 });
      expect(data.problems.map((p: { code: string }) => p.code)).toEqual(['count_mismatch', 'root_mismatch']);
    } finally {
      // Put the row back, and only the row: the rows derived from it (search, targets, counters)
      // were never removed, so the insert triggers must not run again.
      await ctx.bypassingTriggers(`INSERT INTO events (workspace_id, seq, id, batch_id, actor_id, actor_name, actor_type, action, action_category, resource,
        resource_id, resource_name, metadata, targets, tenant_id, session_id, idempotency_key, version, ip_address, ip_country, ip_city,
        user_agent, occurred_at, created_at, event_hash, previous_event_hash)
        VALUES ($1, $2, $3, gen_random_uuid(), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
      [victim.workspace_id, victim.seq, victim.id, victim.actor_id, victim.actor_name, victim.actor_type, victim.action, victim.action_category,
        victim.resource, victim.resource_id, victim.resource_name, JSON.stringify(victim.metadata), JSON.stringify(victim.targets), victim.tenant_id,
        victim.session_id, victim.idempotency_key, victim.version, victim.ip_address, victim.ip_country, victim.ip_city, victim.user_agent,
        victim.occurred_at, victim.created_at, Buffer.from(victim.event_hash, 'hex'), Buffer.from(victim.previous_event_hash!, 'hex')]);
    }
    const { data } = (await ctx.api(alice.key, `/api/v1/anchors/${first!.id}/verify`)).body;
    expect(data.valid).toBe(true);
  });
});

describe('GET /api/v1/events/{id}/proof', () => {
  it('proves one event alone: its path, its anchor, the global path and a transaction carrying that root', async () => {
    const event = aliceDay1[257]!;
    const res = await ctx.api(alice.key, `/api/v1/events/${event.id}/proof`);
    expect(res.status).toBe(200);
    const proof = res.body.data as EventProof;
    expect(proof.event_hash).toBe(event.event_hash);
    expect(proof.event).toEqual(expect.objectContaining({ id: event.id, previous_event_hash: event.previous_event_hash, v: 1 }));
    expect(proof.inclusion).toMatchObject({ leaf_index: 257, tree_size: 300 });
    expect(verifyEventProof(proof)).toEqual([]);
    const observed = await readAnchorTransaction(ctx.chain!.client, proof.transaction.tx_hash as `0x${string}`);
    const verdict = checkAnchorTransaction({
      chainId: proof.transaction.chain_id, txHash: proof.transaction.tx_hash!, globalRoot: proof.global.root, treeSize: proof.global.tree_size,
      day: DAY1, signer: proof.transaction.signer, blockNumber: proof.transaction.block_number,
    }, observed);
    expect(verdict.failures).toEqual([]);
  });

  it('is 404 for an event of another workspace', async () => {
    const res = await ctx.api(bob.key, `/api/v1/events/${aliceDay1[0]!.id}/proof`);
    expect([res.status, res.body.error]).toEqual([404, 'not_found']);
  });

  it('is 409 for an event whose day is not anchored yet, saying from when it will be', async () => {
    const [late] = await appendDay(ctx.pool, alice.workspaceId, DAY4, 1, 'late');
    const res = await ctx.api(alice.key, `/api/v1/events/${late!.id}/proof`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'conflict', status: 'not_anchored', anchored_from: '2026-02-06T00:10:00.000Z' });
    expect(res.body.message).toContain(`events of ${DAY4} (UTC) are anchored once that day is over`);
  });
});

describe('GET /api/v1/anchors/{id}/bundle', () => {
  it('streams the anchor and every event with its proof, which check out offline', async () => {
    const [, first] = await anchorsOf(alice.key);
    const res = await fetch(`${ctx.apiUrl}/api/v1/anchors/${first!.id}/bundle`, { headers: { authorization: `Bearer ${alice.key}` } });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const [header, ...lines] = (await res.text()).trimEnd().split('\n').map((l) => JSON.parse(l)) as [BundleHeader, ...BundleEventLine[]];
    expect(lines).toHaveLength(300);
    const report = verifyBundle(header, lines);
    expect([report.headerFailures, report.bundleFailures, report.verdicts.filter((v) => v.failures.length)]).toEqual([[], [], []]);
    const second = await anchorsOf(alice.key).then((a) => a[0]!);
    const next = await fetch(`${ctx.apiUrl}/api/v1/anchors/${second.id}/bundle`, { headers: { authorization: `Bearer ${alice.key}` } });
    const [nextHeader] = (await next.text()).split('\n', 1).map((l) => JSON.parse(l)) as [BundleHeader];
    expect(nextHeader.previous_anchor?.id).toBe(first!.id);
  });
});

describe('public anchor endpoints', () => {
  const publicGet = async (path: string) => {
    const res = await fetch(`${ctx.apiUrl}${path}`);
    return { status: res.status, body: await res.json() as any, headers: res.headers };
  };

  it('look up a transaction without a key, showing roots, counts and hashes but no event or workspace data', async () => {
    const [anchor] = await anchorsOf(bob.key);
    const res = await publicGet(`/api/v1/public/anchors/lookup?tx_hash=${anchor!.tx_hash}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ tx_hash: anchor!.tx_hash, status: 'confirmed', anchors_count: 2, period_start: `${DAY1}T00:00:00.000000Z` });
    expect(res.body.data.anchors).toContainEqual(expect.objectContaining({ id: anchor!.id, merkle_root: anchor!.merkle_root, events_count: 5 }));
    expect(JSON.stringify(res.body)).not.toContain(bob.workspaceId);
    expect((await publicGet(`/api/v1/public/anchors/lookup?tx_hash=0x${'0'.repeat(64)}`)).status).toBe(404);
    expect((await publicGet('/api/v1/public/anchors/lookup?tx_hash=nope')).status).toBe(400);
  });

  it('verify an anchor by id without a key', async () => {
    const [anchor] = await anchorsOf(bob.key);
    const res = await publicGet(`/api/v1/public/anchors/${anchor!.id}/verify`);
    expect(res.body.data).toMatchObject({ valid: true, chain_valid: true, onchain_valid: true, events_count: 5 });
    expect(JSON.stringify(res.body)).not.toContain(bob.workspaceId);
  });
});

describe('the public rate limit', () => {
  it('answers 429 rate_limited with Retry-After once a client has used its burst', async () => {
    const limited = await createTestContext({ worker: false, anchoring: { publicRateLimit: { perMinute: 1, burst: 3 } } });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${limited.apiUrl}/api/v1/public/anchors/lookup?tx_hash=0x${'1'.repeat(64)}`);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([404, 404, 404, 429]);
      expect(await last!.json()).toMatchObject({ error: 'rate_limited' });
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
