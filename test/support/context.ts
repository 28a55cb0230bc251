/**
 * An isolated, real Sealtrail for one test file: its own database (cloned from the migrated
 * template), its own Temporal task queue, an in-process worker and API.
 */
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pg from 'pg';
import { generatePrivateKey } from 'viem/accounts';
import { createActivities, openAnchorChain, openGeoLookup, type Activities, type AnchorChain, type GeoLookup } from '../../activities/mod.ts';
import { createApp, type ReadLimits } from '../../api/mod.ts';
import { silentLogger } from '../../log/mod.ts';
import { createApiKey, createPool, createWorkspace, type Permission } from '../../store/mod.ts';
import { ensureRecoverySchedule } from '../../worker/mod.ts';
import { ANCHOR_DAY_WORKFLOW, anchorDayWorkflowId, type AnchorDayResult } from '../../workflows/ids.ts';
import { readRuntime, TEMPLATE_DB, type TestRuntime } from './runtime.ts';

let geo: Promise<GeoLookup> | undefined;
let runtimeInstalled = false;

function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try { Runtime.install({ logger: new DefaultLogger('WARN') }); } catch { /* already installed in this process */ }
}

export interface TestContext {
  runtime: TestRuntime;
  databaseUrl: string;
  pool: pg.Pool;
  temporal: Client;
  taskQueue: string;
  apiUrl: string;
  /** Starts the in-process worker (contexts start with one unless `worker: false`). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** The activities the context's worker runs, over `pool` (a transaction's client, say) or the context's own. */
  activities(pool?: pg.Pool): Promise<Activities>;
  /**
   * Runs one statement in a superuser session with every trigger off (the append-only ones and
   * those deriving rows), as an attacker with database access, or an operator restoring a row, could.
   */
  bypassingTriggers(sql: string, params: unknown[]): Promise<void>;
  /** A new workspace with a key of the given permissions. */
  workspace(permissions?: Permission[]): Promise<{ workspaceId: string; key: string }>;
  /** fetch against the API with a bearer key. */
  api(key: string, path: string, init?: { method?: string; body?: unknown; rawBody?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
  /** With `anchoring`: the chain and the context's own signing account. */
  chain?: AnchorChain;
  /** With `anchoring`: runs the anchorDay workflow for a UTC day and returns its result. */
  anchorDay(day: string): Promise<AnchorDayResult>;
}

export interface ContextOptions {
  worker?: boolean;
  recovery?: { everySeconds: number; minAgeSeconds: number };
  ingest?: { groupCommitMs?: number; groupMaxEvents?: number };
  /** Event reads admitted per workspace (the API's default otherwise). */
  reads?: ReadLimits;
  /**
   * Anchoring on the run's local EVM node (or `rpcUrl`), signed by a fresh account funded for
   * this context only, so test files running at once never share a nonce sequence.
   */
  anchoring?: { rpcUrl?: string; confirmations?: number; pollMs?: number; abandonAfterMs?: number; publicRateLimit?: { perMinute: number; burst: number } };
}

export async function createTestContext(options: ContextOptions = {}): Promise<TestContext> {
  const runtime = readRuntime();
  const name = `t_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client(runtime.adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  await admin.end();
  const databaseUrl = runtime.templateUrl.replace(new RegExp(`/${TEMPLATE_DB}$`), `/${name}`);
  const pool = createPool(databaseUrl, { max: 20 });
  const connection = await Connection.connect({ address: runtime.temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const taskQueue = `test-${name}`;
  geo ??= openGeoLookup();
  const recovery = options.recovery ?? { everySeconds: 3600, minAgeSeconds: 3600 };

  const chain = options.anchoring ? await fundedTestChain(options.anchoring.rpcUrl ?? runtime.evmRpcUrl, options.anchoring.confirmations ?? 1) : undefined;
  const anchoring = chain && { chain, pollMs: options.anchoring?.pollMs ?? 200, abandonAfterMs: options.anchoring?.abandonAfterMs };

  const activities = async (over: pg.Pool = pool) =>
    createActivities({ pool: over, geo: await geo!, temporal, taskQueue, recoveryMinAgeSeconds: recovery.minAgeSeconds, anchoring });

  let worker: { worker: Worker; run: Promise<void>; connection: NativeConnection } | undefined;
  const startWorker = async () => {
    if (worker) return;
    quietTemporalRuntime();
    const native = await NativeConnection.connect({ address: runtime.temporalAddress });
    const w = await Worker.create({
      connection: native, namespace: 'default', taskQueue,
      workflowBundle: { codePath: runtime.bundlePath },
      activities: await activities(),
    });
    worker = { worker: w, run: w.run(), connection: native };
  };
  const stopWorker = async () => {
    if (!worker) return;
    const w = worker;
    worker = undefined;
    w.worker.shutdown();
    await w.run;
    await w.connection.close();
  };
  if (options.worker !== false) await startWorker();
  if (options.recovery) await ensureRecoverySchedule(temporal, taskQueue, recovery.everySeconds);

  const { koa, drain } = createApp({ pool, temporal, taskQueue, log: silentLogger,
    ingest: { groupCommitMs: options.ingest?.groupCommitMs ?? 2, groupMaxEvents: options.ingest?.groupMaxEvents ?? 1000 },
    anchoring: { chain, publicRateLimit: options.anchoring?.publicRateLimit }, reads: options.reads });
  const server: Server = await new Promise((resolve) => { const s = koa.listen(0, '127.0.0.1', () => resolve(s)); });
  const apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    runtime, databaseUrl, pool, temporal, taskQueue, apiUrl, startWorker, stopWorker, chain, activities,
    async bypassingTriggers(sql, params) {
      const client = new pg.Client(databaseUrl);
      await client.connect();
      try {
        await client.query("SET session_replication_role = 'replica'");
        await client.query(sql, params);
      } finally { await client.end(); }
    },
    async anchorDay(day) {
      return await temporal.workflow.execute(ANCHOR_DAY_WORKFLOW, { taskQueue, workflowId: anchorDayWorkflowId(taskQueue, day), args: [{ day }] }) as AnchorDayResult;
    },
    async workspace(permissions = ['admin']) {
      const ws = await createWorkspace(pool, `test ${name}`);
      const { key } = await createApiKey(pool, { workspaceId: ws.id, name: 'test', permissions });
      return { workspaceId: ws.id, key };
    },
    async api(key, path, init = {}) {
      const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
      const response = await fetch(`${apiUrl}${path}`, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      const text = await response.text();
      let parsed: unknown = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON */ }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async close() {
      if (options.recovery) await temporal.schedule.getHandle(`sealtrail-recovery-sweep-${taskQueue}`).delete().catch(() => {});
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      await drain();
      await stopWorker();
      await connection.close();
      await pool.end();
    },
  };
}

/** A chain handle on `rpcUrl` signing with a new account that the dev node funds (hardhat_setBalance). */
async function fundedTestChain(rpcUrl: string, confirmations: number): Promise<AnchorChain> {
  const privateKey = generatePrivateKey();
  const chain = openAnchorChain({ rpcUrl, name: 'local', chainId: 31337, confirmations, privateKey });
  await chain.client.request({ method: 'hardhat_setBalance' as never, params: [chain.account!.address, '0x3635c9adc5dea00000'] as never });
  return chain;
}

/** Polls until `check` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, what: string | (() => string) = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    // A function describes the state at the time of failure (what a process had printed by then).
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
