import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { acceptEvent } from '../core/mod.ts';
import { createPool, writeInboxBatch } from '../store/mod.ts';
import { ingestWorkflowId, recoveryScheduleId } from '../workflows/ids.ts';
import { PROJECT_ROOT } from './support/runtime.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';

const event = (i: number) => ({ actor_id: `user_${i}`, action: 'file.uploaded', resource: 'file', resource_id: `f_${i}`, metadata: { size: i * 10 } });

async function storedIds(ctx: TestContext, workspaceId: string): Promise<string[]> {
  const { rows } = await ctx.pool.query<{ id: string }>('SELECT id FROM events WHERE workspace_id = $1 ORDER BY seq', [workspaceId]);
  return rows.map((r) => r.id);
}

describe('a worker killed in the middle of a batch', () => {
  let ctx: TestContext;
  const workers: ChildProcess[] = [];
  beforeAll(async () => { ctx = await createTestContext({ worker: false }); });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await ctx.temporal.schedule.getHandle(recoveryScheduleId(ctx.taskQueue)).delete().catch(() => {});
    await ctx.close();
  });

  /** The real worker process, as `npm start` runs it. */
  async function startWorkerProcess(): Promise<ChildProcess> {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'cli', 'main.ts'), 'worker'], {
      env: { ...process.env, DATABASE_URL: ctx.databaseUrl, TEMPORAL_ADDRESS: ctx.runtime.temporalAddress, TEMPORAL_TASK_QUEUE: ctx.taskQueue,
        TEMPORAL_WORKFLOW_BUNDLE: ctx.runtime.bundlePath, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d; });
    child.stderr!.on('data', (d: Buffer) => { output += d; });
    await eventually(async () => output.includes('worker running'), 30_000, `the worker to run (output: ${output})`);
    return child;
  }

  it('stores every accepted event exactly once after a restart, and the chain verifies', async () => {
    const { key, workspaceId } = await ctx.workspace(['admin']);
    const accepted: string[] = [];
    const send = async (from: number) => {
      const res = await ctx.api(key, '/api/v1/events/batch', { body: { events: Array.from({ length: 50 }, (_, i) => event(from + i)) } });
      expect(res.status).toBe(202);
      accepted.push(...res.body.events.map((e: { id: string }) => e.id));
    };
    const first = await startWorkerProcess();
    await send(0);
    await eventually(async () => (await storedIds(ctx, workspaceId)).length === 50);

    // Hold the chain head so the next append blocks inside its transaction, then kill the worker there.
    const blocker = new pg.Client(ctx.databaseUrl);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM chain_heads WHERE workspace_id = $1 FOR UPDATE', [workspaceId]);
    await send(50);
    await eventually(async () => {
      const { rows } = await blocker.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'sealtrail-worker' AND wait_event_type = 'Lock'`);
      return rows.length > 0;
    }, 20_000, 'the append to wait on the chain head');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await blocker.query('ROLLBACK');
    await blocker.end();

    // Events keep being accepted while no worker runs.
    await send(100);
    await send(150);
    expect(await storedIds(ctx, workspaceId)).toHaveLength(50);

    await startWorkerProcess();
    const stored = await eventually(async () => {
      const ids = await storedIds(ctx, workspaceId);
      return ids.length >= 200 ? ids : undefined;
    }, 60_000, 'all accepted events to be stored');
    expect(stored).toHaveLength(200);
    expect(new Set(stored)).toEqual(new Set(accepted));
    expect((await ctx.api(key, '/api/v1/verify')).body.data).toEqual({ valid: true, events_checked: 200, breaks: [] });
    const { rows } = await ctx.pool.query(`SELECT count(*)::int AS n FROM ingest_batches WHERE workspace_id = $1 AND status <> 'appended'`, [workspaceId]);
    expect(rows[0].n).toBe(0);
  }, 120_000);
});

describe('an API that died after the hand-off committed, before starting the workflow', () => {
  let ctx: TestContext;
  beforeAll(async () => { ctx = await createTestContext({ recovery: { everySeconds: 1, minAgeSeconds: 1 } }); });
  afterAll(async () => { await ctx.close(); });

  it('has its batch started by the recovery schedule and stored', async () => {
    const { key, workspaceId } = await ctx.workspace(['admin']);
    const batchId = crypto.randomUUID();
    const events = Array.from({ length: 5 }, (_, i) => acceptEvent(event(i), crypto.randomUUID(), '2026-03-15T14:32:18.847312Z'));
    // Exactly what the API's hand-off commits before it starts the workflow.
    await writeInboxBatch(ctx.pool, batchId, workspaceId, events);
    const stored = await eventually(async () => {
      const ids = await storedIds(ctx, workspaceId);
      return ids.length === 5 ? ids : undefined;
    }, 30_000, 'the stranded batch to be stored');
    expect(stored).toEqual(events.map((e) => e.id));
    // The append commits before its workflow completes: wait for the workflow, then look at it.
    const handle = ctx.temporal.workflow.getHandle(ingestWorkflowId(batchId));
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect((await ctx.api(key, '/api/v1/verify')).body.data.valid).toBe(true);
  }, 60_000);
});

describe('a hand-off that fails', () => {
  let ctx: TestContext;
  beforeAll(async () => { ctx = await createTestContext(); });
  afterEach(async () => { await ctx.pool.query('ALTER TABLE ingest_batches DROP CONSTRAINT IF EXISTS refuse_all'); });
  afterAll(async () => { await ctx.close(); });

  it('answers 503 and keeps nothing, not even the idempotency key, so a retry is accepted', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    await ctx.pool.query('ALTER TABLE ingest_batches ADD CONSTRAINT refuse_all CHECK (events_count < 0) NOT VALID');
    const failed = await ctx.api(key, '/api/v1/events', { body: { ...event(1), idempotency_key: 'retry-me' } });
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ error: 'unavailable', message: expect.stringContaining('nothing was accepted') });
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM idempotency_keys WHERE workspace_id = $1', [workspaceId]);
    expect(rows[0].n).toBe(0);

    await ctx.pool.query('ALTER TABLE ingest_batches DROP CONSTRAINT refuse_all');
    const retried = await ctx.api(key, '/api/v1/events', { body: { ...event(1), idempotency_key: 'retry-me' } });
    expect(retried.body.status).toBe('queued');
    await eventually(async () => (await storedIds(ctx, workspaceId)).length === 1);
  });

  it('answers 503 in the contract format when PostgreSQL is unreachable', async () => {
    const { createApp } = await import('../api/mod.ts');
    const { silentLogger } = await import('../log/mod.ts');
    const deadPool = createPool('postgres://postgres:x@127.0.0.1:1/none', { max: 1 });
    const { koa } = createApp({ pool: deadPool, temporal: ctx.temporal, taskQueue: ctx.taskQueue, log: silentLogger, ingest: { groupCommitMs: 1, groupMaxEvents: 10 } });
    const server = koa.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/events`, {
        method: 'POST', headers: { authorization: 'Bearer stk_whatever_key_1234567890' }, body: JSON.stringify(event(1)) });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'unavailable' });
    } finally {
      server.close();
      await deadPool.end();
    }
  });
});
