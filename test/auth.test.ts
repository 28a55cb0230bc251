import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import Koa from 'koa';
import { requireKey, type AuthState } from '../api/auth.ts';
import { errorHandler } from '../api/errors.ts';
import { silentLogger } from '../log/mod.ts';
import { createApiKey } from '../store/mod.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';
import { PROJECT_ROOT } from './support/runtime.ts';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext({ worker: false }); });
afterAll(async () => { await ctx.close(); });

const run = promisify(execFile);

/** The real CLI, as `npx sealtrail` runs it. */
async function sealtrail(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], {
      env: { ...process.env, DATABASE_URL: ctx.databaseUrl, SEALTRAIL_DATA_DIR: join(ctx.runtime.dir, 'no-local-stack') },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const event = { actor_id: 'user_1', action: 'document.created' };

describe('API keys', () => {
  it('answer 401 in the contract format for a missing, malformed or unknown key', async () => {
    const expected = { error: 'unauthenticated', message: 'Invalid or missing API key.' };
    const noHeader = await fetch(`${ctx.apiUrl}/api/v1/events`, { method: 'POST', body: JSON.stringify(event) });
    expect([noHeader.status, await noHeader.json()]).toEqual([401, expected]);
    for (const header of ['Basic abc', 'Bearer', 'Bearer not-a-key', 'Bearer stk_', `Bearer stk_${'x'.repeat(40)}`, `Bearer stk_${'y'.repeat(500)}`]) {
      const res = await fetch(`${ctx.apiUrl}/api/v1/verify`, { headers: { authorization: header } });
      expect([res.status, await res.json()]).toEqual([401, expected]);
    }
  });

  it('answer 403 when the key lacks the permission', async () => {
    const ingestOnly = await ctx.workspace(['ingest']);
    const readOnly = await ctx.workspace(['read']);
    const read = await ctx.api(ingestOnly.key, '/api/v1/verify');
    expect([read.status, read.body.error]).toEqual([403, 'forbidden']);
    expect(read.body.message).toContain("'read'");
    const write = await ctx.api(readOnly.key, '/api/v1/events', { body: event });
    expect([write.status, write.body.error]).toEqual([403, 'forbidden']);
    expect((await ctx.api(readOnly.key, '/api/v1/verify')).status).toBe(200);
  });

  it('check a key on every read, even one seen valid before: once revoked it reads nothing, and its 401 comes before any other answer', async () => {
    const { key, workspaceId } = await ctx.workspace(['read']);
    for (let i = 0; i < 3; i++) expect((await ctx.api(key, '/api/v1/events?limit=5')).status).toBe(200);
    await ctx.pool.query('UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1', [workspaceId]);
    const after = await ctx.api(key, '/api/v1/events?limit=5');
    expect([after.status, after.body.error, after.body.data]).toEqual([401, 'unauthenticated', undefined]);
    expect((await ctx.api(key, '/api/v1/events?limit=0')).status).toBe(401); // a bad parameter would be a 400
    expect((await ctx.api(key, `/api/v1/events/${crypto.randomUUID()}`)).status).toBe(401); // an unknown id a 404
  });

  it.each([
    ['an event', '/api/v1/events', event],
    ['an event with an idempotency key', '/api/v1/events', { ...event, idempotency_key: 'k-1' }],
    ['a batch', '/api/v1/events/batch', { events: [event, event] }],
  ])('check a key seen valid inside the very write that would accept %s: once revoked, nothing is kept', async (_what, path, body) => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const inbox = async () => (await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_batches WHERE workspace_id = $1', [workspaceId])).rows[0]!.n;
    expect((await ctx.api(key, '/api/v1/events', { body: event })).status).toBe(202); // looked up, then remembered
    await ctx.pool.query('UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1', [workspaceId]);
    const kept = await inbox();
    const res = await ctx.api(key, path, { body });
    expect([res.status, res.body.error]).toEqual([401, 'unauthenticated']);
    expect(await inbox()).toBe(kept);
    expect((await ctx.pool.query('SELECT 1 FROM idempotency_keys WHERE workspace_id = $1', [workspaceId])).rows).toHaveLength(0);
  });

  it('answer 401, not "duplicate", to a revoked key repeating an idempotency key it sent before', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    const body = { ...event, idempotency_key: 'again' };
    expect((await ctx.api(key, '/api/v1/events', { body })).status).toBe(202); // looked up, then remembered
    await ctx.pool.query('UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1', [workspaceId]);
    const res = await ctx.api(key, '/api/v1/events', { body }); // every event a duplicate: no batch INSERT to check the key
    expect([res.status, res.body.error]).toEqual([401, 'unauthenticated']);
  });

  it('keep a key\'s last use current when ingestion no longer looks it up', async () => {
    const { key, workspaceId } = await ctx.workspace(['ingest']);
    expect((await ctx.api(key, '/api/v1/events', { body: event })).status).toBe(202); // looked up, then remembered
    await ctx.pool.query(`UPDATE api_keys SET last_used_at = '2000-01-01Z' WHERE workspace_id = $1`, [workspaceId]);
    const refreshed = async () => (await ctx.pool.query<{ fresh: boolean }>(`SELECT last_used_at > '2001-01-01Z' AS fresh FROM api_keys WHERE workspace_id = $1`, [workspaceId])).rows[0]!.fresh;
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 2 * 60_000); // past the once-a-minute refresh
    try {
      expect((await ctx.api(key, '/api/v1/events', { body: event })).status).toBe(202);
    } finally {
      clock.mockRestore();
    }
    await eventually(async () => (await refreshed()) || undefined, 5000, 'last_used_at to be refreshed');
  });

  it('answer 401 to the requests of a revoked key and keep those of a valid one, written in the same group', async () => {
    const { key: revokedKey, workspaceId } = await ctx.workspace(['ingest']);
    const valid = (await createApiKey(ctx.pool, { workspaceId, name: 'other', permissions: ['ingest'] })).key;
    for (const k of [revokedKey, valid]) expect((await ctx.api(k, '/api/v1/events', { body: event })).status).toBe(202);
    await ctx.pool.query('UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1 AND name <> $2', [workspaceId, 'other']);
    const before = (await ctx.pool.query<{ n: number }>('SELECT coalesce(sum(events_count), 0)::int AS n FROM ingest_batches WHERE workspace_id = $1', [workspaceId])).rows[0]!.n;
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.api(i % 2 === 0 ? revokedKey : valid, '/api/v1/events', { body: { ...event, idempotency_key: i % 4 < 2 ? `g-${i}` : undefined } })));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 401 : 202)));
    const after = (await ctx.pool.query<{ n: number }>('SELECT coalesce(sum(events_count), 0)::int AS n FROM ingest_batches WHERE workspace_id = $1', [workspaceId])).rows[0]!.n;
    expect(after - before).toBe(10);
  });

  it.each([
    ['checked while the handler runs', { overlap: true }, undefined],
    ['checked after a handler that did not check it', { checkInRead: true }, undefined],
    ['checked by the handler itself', { checkInRead: true }, 'in its statement'],
  ] as const)('show nothing a handler did for a key revoked since it was seen valid (%s): no body, no headers', async (_how, options, handlerChecks) => {
    const { key, workspaceId } = await ctx.workspace(['read']);
    const app = new Koa<AuthState>();
    app.use(errorHandler(silentLogger));
    app.use(requireKey(ctx.pool, 'read', options));
    app.use(async (c) => {
      if (handlerChecks && c.state.uncheckedKeyId) {
        const { rows } = await ctx.pool.query<{ valid: boolean }>('SELECT revoked_at IS NULL AS valid FROM api_keys WHERE id = $1', [c.state.uncheckedKeyId]);
        c.state.keyValid = rows[0]!.valid;
      }
      c.set('X-Found', 'anchor of 2026-03-02');
      c.body = { found: true };
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const get = async () => {
        const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, { headers: { authorization: `Bearer ${key}` } });
        return { status: res.status, found: res.headers.get('x-found'), body: await res.text() };
      };
      expect(await get()).toMatchObject({ status: 200, found: 'anchor of 2026-03-02' }); // checked, then run
      expect(await get()).toMatchObject({ status: 200, found: 'anchor of 2026-03-02' }); // run while checked
      await ctx.pool.query('UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1', [workspaceId]);
      const after = await get();
      expect([after.status, after.found, after.body.includes('found')]).toEqual([401, null, false]);
    } finally {
      server.close();
    }
  });
});

describe('the sealtrail CLI', () => {
  it('creates a workspace and keys, lists them without secrets, and a revoked key stops working at once', async () => {
    const created = await sealtrail('workspace', 'create', 'Acme', '--json');
    expect(created.code).toBe(0);
    const { workspace_id: workspaceId } = JSON.parse(created.stdout);

    const keyOut = await sealtrail('keys', 'create', '--workspace', workspaceId, '--name', 'backend', '--permissions', 'ingest,read', '--json');
    expect(keyOut.code).toBe(0);
    const key = JSON.parse(keyOut.stdout);
    expect(key).toEqual({ workspace_id: workspaceId, key_id: expect.stringMatching(/^[0-9a-f-]{36}$/), key: expect.stringMatching(/^stk_[\w-]{40}$/) });

    expect((await ctx.api(key.key, '/api/v1/events', { body: event })).status).toBe(202);

    const listed = JSON.parse((await sealtrail('keys', 'list', '--workspace', workspaceId, '--json')).stdout);
    expect(listed).toEqual([{ key_id: key.key_id, prefix: key.key.slice(0, 12), name: 'backend', permissions: ['ingest', 'read'],
      created_at: expect.any(String), last_used_at: expect.any(String), revoked_at: null }]);
    const { rows } = await ctx.pool.query('SELECT secret_hash FROM api_keys WHERE id = $1', [key.key_id]);
    expect(Buffer.from(rows[0].secret_hash).toString('utf8')).not.toContain(key.key.slice(12));
    expect(JSON.stringify(listed)).not.toContain(key.key.slice(12));

    const revoked = await sealtrail('keys', 'revoke', key.key_id, '--workspace', workspaceId);
    expect(revoked.code).toBe(0);
    const after = await ctx.api(key.key, '/api/v1/events', { body: event });
    expect([after.status, after.body.error]).toEqual([401, 'unauthenticated']);
    expect(JSON.parse((await sealtrail('keys', 'list', '--workspace', workspaceId, '--json')).stdout)[0].revoked_at).not.toBeNull();
  });

  it('explains bad input in one line and exits non-zero', async () => {
    const badPermission = await sealtrail('keys', 'create', '--workspace', crypto.randomUUID(), '--permissions', 'root');
    expect(badPermission.code).toBe(1);
    expect(badPermission.stderr.trim()).toMatch(/^sealtrail: --permissions takes a list of ingest, read, admin/);
    const unknownWorkspace = await sealtrail('keys', 'list', '--workspace', crypto.randomUUID());
    expect(unknownWorkspace.stderr.trim()).toMatch(/^sealtrail: workspace .* does not exist$/);
    const unknownKey = await sealtrail('keys', 'revoke', crypto.randomUUID(), '--workspace', JSON.parse((await sealtrail('workspace', 'create', 'x', '--json')).stdout).workspace_id);
    expect(unknownKey.stderr.trim()).toMatch(/does not exist in workspace/);
    const unknownCommand = await sealtrail('frobnicate');
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('usage: sealtrail');
    const unknownFlag = await sealtrail('keys', 'list', '--colour');
    expect(unknownFlag.code).toBe(2);
  });

  it('says how to get a database when there is none', async () => {
    const res = await run(process.execPath, [join(PROJECT_ROOT, 'cli', 'main.ts'), 'workspace', 'list'], {
      env: { ...process.env, DATABASE_URL: '', SEALTRAIL_DATA_DIR: join(ctx.runtime.dir, 'empty') },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((res as { code: number }).code).toBe(1);
    expect((res as { stderr: string }).stderr.trim()).toBe('sealtrail: no database: set DATABASE_URL, or run `npm start` first to use the embedded PostgreSQL.');
  });
});
