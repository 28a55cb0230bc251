/**
 * Each workspace's event reads are admitted to the shared connection pool a few at a time, so that
 * one workspace's slow reads never hold every connection (api/events/read-gate.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { ReadGate, readLimitsFor } from '../api/mod.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

/** A read that runs until `finish` is called. */
function heldRead() {
  let finish!: (value: string) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<string>((resolve, reject) => { finish = resolve; fail = reject; });
  let started = false;
  return { read: () => { started = true; return done; }, finish, fail, get started() { return started; } };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** `answer`, or 'still waiting' after `ms`: a read the gate wrongly let through would wait on the lock. */
async function within<T>(answer: Promise<T>, ms = 5000): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([answer, new Promise<'still waiting'>((resolve) => { timer = setTimeout(() => resolve('still waiting'), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

describe('ReadGate', () => {
  it('runs `concurrent` reads of a workspace, queues `queued` more in order, and refuses the rest with 429', async () => {
    const gate = new ReadGate({ concurrent: 2, queued: 1 });
    const [r1, r2, r3] = [heldRead(), heldRead(), heldRead()];
    const p1 = gate.run('ws_a', r1.read);
    const p2 = gate.run('ws_a', r2.read);
    const p3 = gate.run('ws_a', r3.read);
    await settle();
    expect([r1.started, r2.started, r3.started]).toEqual([true, true, false]);
    await expect(gate.run('ws_a', async () => 'never')).rejects.toMatchObject({ status: 429, code: 'rate_limited', headers: { 'Retry-After': '1' } });

    r2.finish('two');
    await expect(p2).resolves.toBe('two');
    await settle();
    expect(r3.started).toBe(true); // the freed slot went to the waiting read
    r1.finish('one');
    r3.finish('three');
    await expect(Promise.all([p1, p3])).resolves.toEqual(['one', 'three']);
    expect(gate.busyWorkspaces).toBe(0);
  });

  it('keeps each workspace\'s slots apart', async () => {
    const gate = new ReadGate({ concurrent: 1, queued: 0 });
    const a = heldRead();
    const pa = gate.run('ws_a', a.read);
    await expect(gate.run('ws_a', async () => 'a again')).rejects.toMatchObject({ status: 429 });
    await expect(gate.run('ws_b', async () => 'b')).resolves.toBe('b');
    a.finish('a');
    await pa;
  });

  it('gives the slot back when a read fails', async () => {
    const gate = new ReadGate({ concurrent: 1, queued: 1 });
    const failing = heldRead();
    const pf = gate.run('ws_a', failing.read);
    const next = gate.run('ws_a', async () => 'next');
    failing.fail(new Error('statement failed'));
    await expect(pf).rejects.toThrow('statement failed');
    await expect(next).resolves.toBe('next');
    expect(gate.busyWorkspaces).toBe(0);
  });

  it('sizes its limits from the pool: a workspace holds at most 40% of the connections', () => {
    expect(readLimitsFor(10)).toEqual({ concurrent: 2, queued: 32 });
    expect(readLimitsFor(3)).toEqual({ concurrent: 1, queued: 32 });
    expect(readLimitsFor(50)).toEqual({ concurrent: 10, queued: 32 });
  });
});

describe('GET /api/v1/events and /verify behind the gate', () => {
  let ctx: TestContext;
  beforeAll(async () => { ctx = await createTestContext({ worker: false, reads: { concurrent: 1, queued: 0 } }); });
  afterAll(async () => { await ctx.close(); });

  it('refuses a workspace\'s read beyond its limit with 429, while another workspace\'s read is still admitted', async () => {
    const [a, b] = [await ctx.workspace(['read']), await ctx.workspace(['read'])];
    // Every read of `events` now waits for this lock: reads stay in flight as long as the test wants.
    const locker = new pg.Client(ctx.databaseUrl);
    await locker.connect();
    const lockWaiters = async () => (await ctx.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0]!.n;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      // A session filter's page and count both read `events`, at once: two waiters per read.
      const a1 = ctx.api(a.key, '/api/v1/events?session_id=sess_1');
      await eventually(async () => (await lockWaiters()) >= 2, 10_000, 'the first read to wait on the lock');

      const a2 = await within(ctx.api(a.key, '/api/v1/events?session_id=sess_2'));
      expect(a2).toMatchObject({ status: 429, body: { error: 'rate_limited' } });
      expect((a2 as { headers: Headers }).headers.get('retry-after')).toBe('1');
      // Chain verification walks the chain on the same connections: it takes the same slots.
      const verify = await within(ctx.api(a.key, '/api/v1/verify'));
      expect(verify).toMatchObject({ status: 429, body: { error: 'rate_limited' } });

      const b1 = ctx.api(b.key, '/api/v1/events?session_id=sess_1');
      await eventually(async () => (await lockWaiters()) >= 4, 10_000, 'the other workspace\'s read to reach the database');
      await locker.query('COMMIT');
      expect((await a1).status).toBe(200);
      expect((await b1).status).toBe(200);
      // The slot is free again.
      expect((await ctx.api(a.key, '/api/v1/events?session_id=sess_3')).status).toBe(200);
    } finally {
      await locker.end();
    }
  });
});
