import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/mod.ts';
import type { Logger } from '../log/mod.ts';
import { authenticateApiKey, createApiKey, createPool, createWorkspace, listWorkspaces, migrate } from '../store/mod.ts';
import { startEmbeddedPostgres } from './postgres.ts';
import { assertPortFree, spawnManaged, StartupError, waitUntil, type ManagedProcess } from './process.ts';
import { startLocalEvmNode } from './evm.ts';
import { startTemporalDevServer } from './temporal.ts';

/** What `npm start` prints and writes to `.sealtrail/local.json` for scripts. */
export interface LocalInfo { api_url: string; temporal_ui_url: string | null; workspace_id: string; api_key: string }

export const localInfoPath = (dataDir: string) => join(dataDir, 'local.json');

export function readLocalInfo(dataDir: string): LocalInfo | undefined {
  try { return JSON.parse(readFileSync(localInfoPath(dataDir), 'utf8')) as LocalInfo; } catch { return undefined; }
}

/** Connection string of the embedded server of this data folder (for the CLI while `npm start` runs). */
export function embeddedDatabaseUrl(config: Config): string | undefined {
  const passwordFile = join(config.dataDir, 'pg', 'password');
  if (!existsSync(passwordFile)) return undefined;
  const password = readFileSync(passwordFile, 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${config.database.embeddedPort}/sealtrail`;
}

interface Stoppable { name: string; stop(): Promise<void> }

interface SupervisedChild extends Stoppable {
  /** True once the current process reported `ready` on its IPC channel. */
  isReady(): boolean;
}

export interface LocalStack { info: LocalInfo; stop(): Promise<void>; done: Promise<void> }

/**
 * Starts the whole service as one supervised process tree: PostgreSQL (embedded unless
 * DATABASE_URL), the Temporal dev server (unless TEMPORAL_ADDRESS), migrations, the worker and the
 * API as child processes. A failure at any step stops what was already started.
 */
export async function startLocalStack(config: Config, log: Logger, entry: string): Promise<LocalStack> {
  mkdirSync(config.dataDir, { recursive: true });
  const logs = join(config.dataDir, 'logs');
  const started: Stoppable[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) {
      await part.stop().catch((error: unknown) => log.warn('stop failed', { part: part.name, error }));
    }
    started.length = 0;
  };
  try {
    // Checked first, so a taken port fails start-up before anything is started.
    await assertPortFree(config.api.port, config.api.host, 'the API', 'API_PORT');
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      log.info('starting embedded PostgreSQL', { port: config.database.embeddedPort });
      const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'pg'), port: config.database.embeddedPort, logFile: join(logs, 'postgres.log'),
        onNotice: (message) => log.info(message) });
      started.push({ name: 'postgres', stop: pg.stop });
      databaseUrl = pg.url;
    }

    const pool = createPool(databaseUrl, { max: 2, applicationName: 'sealtrail-start' });
    let info: LocalInfo;
    try {
      await migrate(pool).catch((error: unknown) => {
        throw new StartupError(`could not prepare the database: ${(error as Error).message}`);
      });

      let temporalAddress = config.temporal.address;
      let uiUrl = config.temporal.uiUrl ?? null;
      if (!temporalAddress) {
        log.info('starting the Temporal dev server', { port: config.temporal.devPort, uiPort: config.temporal.uiPort });
        const temporal = await startTemporalDevServer({
          cli: config.temporal.cli, toolsDir: config.toolsDir, dbFile: join(config.dataDir, 'temporal.db'),
          port: config.temporal.devPort, uiPort: config.temporal.uiPort, namespace: config.temporal.namespace,
          logFile: join(logs, 'temporal.log'), pidFile: join(config.dataDir, 'temporal.pid'),
        });
        started.push({ name: 'temporal', stop: temporal.stop });
        temporalAddress = temporal.address;
        uiUrl = temporal.uiUrl;
      }

      // The local chain anchors go to, unless an RPC URL points elsewhere (docs/api/anchors.md).
      let evmRpcUrl = config.anchor.rpcUrl;
      if (!evmRpcUrl && config.anchor.chain === 'local') {
        log.info('starting the local EVM node', { port: config.anchor.evmPort });
        const evm = await startLocalEvmNode({ port: config.anchor.evmPort, logFile: join(logs, 'evm.log'), pidFile: join(config.dataDir, 'evm.pid'), stateDir: join(config.dataDir, 'evm') });
        started.push({ name: 'evm', stop: evm.stop });
        evmRpcUrl = evm.rpcUrl;
      }

      const childEnv = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, EVM_RPC_URL: evmRpcUrl };
      const apiUrl = `http://${config.api.host}:${config.api.port}`;
      const credentials = await firstWorkspaceKey(pool, config.dataDir);
      const worker = superviseChild('worker', entry, childEnv, join(logs, 'worker.log'), log);
      started.push(worker);
      const api = superviseChild('api', entry, childEnv, join(logs, 'api.log'), log);
      started.push(api);
      // Ready means an event sent now is chained now: the API answers and the worker polls.
      await waitUntil(async () => (await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok, 60_000,
        () => `the API did not become healthy at ${apiUrl}/health within 60 s; see ${join(logs, 'api.log')}`);
      await waitUntil(async () => worker.isReady(), 120_000, () => `the worker did not start within 120 s; see ${join(logs, 'worker.log')}`);
      info = { api_url: apiUrl, temporal_ui_url: uiUrl, ...credentials };
      const path = localInfoPath(config.dataDir);
      writeFileSync(path, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
    } finally {
      await pool.end();
    }
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => { resolveDone = r; });
    return { info, done, stop: async () => { await stopAll(); resolveDone(); } };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The first workspace and a working admin key: reused from local.json, else created. */
async function firstWorkspaceKey(pool: ReturnType<typeof createPool>, dataDir: string): Promise<{ workspace_id: string; api_key: string }> {
  const saved = readLocalInfo(dataDir);
  if (saved && await authenticateApiKey(pool, saved.api_key)) return { workspace_id: saved.workspace_id, api_key: saved.api_key };
  const workspace = (await listWorkspaces(pool))[0] ?? await createWorkspace(pool, 'Default workspace');
  const created = await createApiKey(pool, { workspaceId: workspace.id, name: 'local admin (npm start)', permissions: ['admin'] });
  return { workspace_id: workspace.id, api_key: created.key };
}

/**
 * Runs `node <entry> <role>` and restarts it if it dies (with backoff), until stopped. The child
 * has an IPC channel to us, and exits when it closes, so it never outlives the supervisor.
 */
function superviseChild(role: string, entry: string, env: NodeJS.ProcessEnv, logFile: string, log: Logger): SupervisedChild {
  let current: ManagedProcess;
  let stopping = false;
  let failures = 0;
  let ready = false;
  const launch = () => {
    const child = spawnManaged(role, process.execPath, [entry, role], { env, logFile, ipc: true });
    current = child;
    ready = false;
    child.child.on('message', (message) => { if (message === 'ready') ready = true; });
    const startedAt = Date.now();
    void child.exited.then(({ code, signal }) => {
      if (stopping) return;
      failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
      const delay = Math.min(30_000, 500 * 2 ** (failures - 1));
      log.error(`${role} exited; restarting`, { code, signal, restartInMs: delay, log: logFile });
      setTimeout(() => { if (!stopping) launch(); }, delay);
    });
  };
  launch();
  return { name: role, isReady: () => ready, stop: async () => { stopping = true; await current.stop('SIGTERM', 20_000); } };
}
