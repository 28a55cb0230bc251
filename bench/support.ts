/**
 * A real stack for benchmarks: embedded PostgreSQL (durable settings, as in production), the
 * Temporal dev server, the worker and the API in this process, all in a throwaway folder.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, openGeoLookup } from '../activities/mod.ts';
import { createApp } from '../api/mod.ts';
import { createLogger } from '../log/mod.ts';
import { startEmbeddedPostgres, startTemporalDevServer } from '../stack/mod.ts';
import { createApiKey, createPool, createWorkspace, migrate, type Permission } from '../store/mod.ts';
import { bundleWorkflows } from '../worker/mod.ts';

export interface BenchStack {
  pool: ReturnType<typeof createPool>;
  temporalAddress: string;
  databaseUrl: string;
  adminUrl: string;
  apiUrl: string;
  temporal: Client;
  /** Process ids of the PostgreSQL postmaster and the Temporal server (for CPU accounting). */
  pids: { postgres: number; temporal: number };
  workspace(permissions?: Permission[]): Promise<{ workspaceId: string; key: string; keyId: string }>;
  close(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

/**
 * Starts PostgreSQL and Temporal, migrates, and runs a worker and the API in-process.
 * `pgSettings`: extra PostgreSQL server settings (`-c name=value`), for diagnostics.
 */
export async function startBenchStack(options: { worker?: boolean; poolSize?: number; pgSettings?: Record<string, string> } = {}): Promise<BenchStack> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'sealtrail-bench-'));
  chmodSync(dir, 0o755);
  const [pg, temporal] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), logFile: join(dir, 'postgres.log'), settings: options.pgSettings }),
    startTemporalDevServer({ toolsDir: join(import.meta.dirname, '..', '.tools'), dbFile: join(dir, 'temporal.db'), port: await freePort(), uiPort: await freePort(),
      namespace: 'default', logFile: join(dir, 'temporal.log'), pidFile: join(dir, 'temporal.pid') }),
  ]);
  const pool = createPool(pg.url, { max: options.poolSize ?? 20 });
  await migrate(pool);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'bench';
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let native: NativeConnection | undefined;
  if (options.worker !== false) {
    native = await NativeConnection.connect({ address: temporal.address });
    worker = await Worker.create({
      connection: native, namespace: 'default', taskQueue, workflowBundle: await bundleWorkflows(),
      activities: createActivities({ pool, geo: await openGeoLookup(), temporal: client, taskQueue, recoveryMinAgeSeconds: 3600 }),
      maxConcurrentActivityTaskExecutions: 32,
    });
    running = worker.run();
  }
  const { koa } = createApp({ pool, temporal: client, taskQueue, log: createLogger('error'), ingest: { groupCommitMs: 4, groupMaxEvents: 1000 } });
  const server = await new Promise<import('node:http').Server>((resolve) => { const s = koa.listen(0, '127.0.0.1', () => resolve(s)); });
  server.keepAliveTimeout = 60_000;
  return {
    pool, temporalAddress: temporal.address, databaseUrl: pg.url, adminUrl: pg.adminUrl, apiUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, temporal: client,
    pids: { postgres: Number(readFileSync(join(dir, 'pg', 'cluster', 'postmaster.pid'), 'utf8').split('\n')[0]), temporal: Number(readFileSync(join(dir, 'temporal.pid'), 'utf8').trim()) },
    async workspace(permissions = ['admin']) {
      const ws = await createWorkspace(pool, 'bench');
      const { key, id } = await createApiKey(pool, { workspaceId: ws.id, name: 'bench', permissions });
      return { workspaceId: ws.id, key, keyId: id };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (worker) { worker.shutdown(); await running; await native!.close(); }
      await connection.close();
      await pool.end();
      await temporal.stop();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Prints one result line: a figure beside its baseline and their ratio. */
export function report(name: string, figures: Record<string, string | number>): void {
  console.log(`${name.padEnd(44)} ${Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`).join('  ')}`);
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU seconds (user + system) used so far by each process tree: the process, its live
 * descendants, and the children it has reaped (a PostgreSQL backend that exited is counted in the
 * postmaster's). Linux /proc; null elsewhere.
 */
export function treeCpuSeconds(roots: Record<string, number>): Record<string, number> | null {
  let entries: string[];
  try { entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e)); } catch { return null; }
  const stats = new Map<number, { parent: number; ticks: number }>();
  for (const pid of entries) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
      stats.set(Number(pid), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) });
    } catch { /* exited meanwhile */ }
  }
  const out: Record<string, number> = {};
  for (const [name, root] of Object.entries(roots)) {
    let ticks = 0;
    for (const [pid, stat] of stats) {
      for (let p = pid, hops = 0; p > 1 && hops < 16; p = stats.get(p)?.parent ?? 0, hops++) {
        if (p === root) { ticks += stat.ticks; break; }
      }
    }
    out[name] = ticks / TICKS_PER_SECOND;
  }
  return out;
}

/**
 * CPU time this virtual machine's host gave to others while we wanted it ("steal", all cores,
 * seconds since boot; Linux /proc/stat). Growing during a run means the figures include pauses
 * that are not the program's. Null elsewhere.
 */
export function stolenCpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.trim().split(/\s+/);
    return Number(fields[8]) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
