/**
 * The Temporal worker: bundled workflows, activities wired to real resources, and the schedules
 * it keeps (created idempotently at start).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { anchorChainFromConfig, createActivities, openGeoLookup } from '../activities/mod.ts';
import { required, type Config } from '../config/mod.ts';
import type { Logger } from '../log/mod.ts';
import { SEARCH_ATTRIBUTES } from '../stack/temporal.ts';
import { createPool } from '../store/mod.ts';
import { ANCHOR_SCHEDULE_WORKFLOW, anchorScheduleId, RECOVERY_WORKFLOW, recoveryScheduleId } from '../workflows/ids.ts';

export const WORKFLOWS_PATH = join(import.meta.dirname, '..', 'workflows', 'mod.ts');

/** Bundles the workflow code once (webpack); reuse the result across workers. */
export async function bundleWorkflows(): Promise<{ code: string }> {
  return await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

const ROOT = join(import.meta.dirname, '..');

/**
 * What the bundle is made of: every source file of `workflows/` (and of `core/`, which workflow
 * code may import) and the versions of the SDK packages bundled with it. Any change makes a new key,
 * so a cached bundle is never stale.
 */
function workflowBundleKey(): string {
  const digest = createHash('sha256');
  for (const dir of ['workflows', 'core']) {
    for (const file of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.ts')).sort()) {
      digest.update(`${dir}/${file}\0`).update(readFileSync(join(ROOT, dir, file))).update('\0');
    }
  }
  for (const pkg of ['workflow', 'common', 'worker']) {
    digest.update(readFileSync(join(ROOT, 'node_modules', '@temporalio', pkg, 'package.json')));
  }
  return digest.digest('hex').slice(0, 24);
}

/**
 * The workflow bundle from `cacheDir` when one was built from the same sources, else bundled now
 * and cached (webpack takes seconds; a restart should not). A cache that cannot be written is
 * only a slower start.
 */
export async function cachedWorkflowBundle(cacheDir: string): Promise<{ codePath: string } | { code: string }> {
  const path = join(cacheDir, `workflow-bundle-${workflowBundleKey()}.js`);
  if (existsSync(path)) return { codePath: path };
  const bundle = await bundleWorkflows();
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(`${path}.tmp`, bundle.code);
    renameSync(`${path}.tmp`, path);
  } catch { /* read-only data folder: bundle at every start */ }
  return bundle;
}

const quietBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error(message: string) { console.error(message); }, log() {} };

/** Registers the project's search attributes on a cluster that lacks them (the dev server gets them by flag). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(customAttributes && name in customAttributes));
  if (missing.length === 0) return;
  // temporal.api.enums.v1.IndexedValueType
  const indexedType = { Keyword: 2, KeywordList: 7 } as const;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, indexedType[type]])),
  });
}

/** Creates (or brings up to date) the recovery-sweep schedule. */
export async function ensureRecoverySchedule(client: Client, taskQueue: string, everySeconds: number): Promise<void> {
  const spec = { intervals: [{ every: `${everySeconds} seconds` }] };
  const action = { type: 'startWorkflow' as const, workflowType: RECOVERY_WORKFLOW, taskQueue, args: [] };
  try {
    await client.schedule.create({ scheduleId: recoveryScheduleId(taskQueue), spec, action, policies: { overlap: 'SKIP' } });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    const handle = client.schedule.getHandle(recoveryScheduleId(taskQueue));
    await handle.update((previous) => ({ ...previous, spec, action })).catch((e: unknown) => {
      if (!(e instanceof ScheduleNotFoundError)) throw e;
    });
  }
}

/**
 * Creates (or brings up to date) the daily anchoring schedule: at `minuteOfDay` minutes past
 * 00:00 UTC it anchors every closed day not anchored yet. It is also triggered once now, so a
 * worker that was down at that time catches up when it starts.
 */
export async function ensureAnchorSchedule(client: Client, taskQueue: string, minuteOfDay: number): Promise<void> {
  const spec = { calendars: [{ hour: Math.floor(minuteOfDay / 60), minute: minuteOfDay % 60 }] };
  const action = { type: 'startWorkflow' as const, workflowType: ANCHOR_SCHEDULE_WORKFLOW, workflowId: `anchor-closed-days-${taskQueue}`, taskQueue, args: [] };
  const handle = client.schedule.getHandle(anchorScheduleId(taskQueue));
  try {
    await client.schedule.create({ scheduleId: anchorScheduleId(taskQueue), spec, action, policies: { overlap: 'SKIP', catchupWindow: '1 day' } });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({ ...previous, spec, action })).catch((e: unknown) => {
      if (!(e instanceof ScheduleNotFoundError)) throw e;
    });
  }
  await handle.trigger('SKIP');
}

export interface RunningWorker { run: Promise<void>; shutdown(): Promise<void> }

export interface WorkerOptions {
  /** A prebuilt bundle (tests share one); bundled at start when absent. */
  workflowBundle?: WorkflowBundleOption;
}

/** Runs the worker process from the configuration until `shutdown()`. */
export async function runWorker(config: Config, log: Logger, options: WorkerOptions = {}): Promise<RunningWorker> {
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS');
  const { namespace, taskQueue } = config.temporal;
  const pool = createPool(required(config.database.url, 'DATABASE_URL'), { max: config.database.poolSize, applicationName: 'sealtrail-worker' });
  const [geo, connection, nativeConnection] = await Promise.all([
    openGeoLookup({ ipv4Path: config.geo.ipv4Path, ipv6Path: config.geo.ipv6Path }),
    Connection.connect({ address }),
    NativeConnection.connect({ address }),
  ]);
  const client = new Client({ connection, namespace });
  await ensureSearchAttributes(connection, namespace);
  await ensureRecoverySchedule(client, taskQueue, config.ingest.recoverySweepSeconds);
  const chain = anchorChainFromConfig(config.anchor, true);
  if (chain) await ensureAnchorSchedule(client, taskQueue, config.anchor.scheduleMinute);
  else log.warn('anchoring is off: EVM_RPC_URL is not set');
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    workflowBundle: options.workflowBundle ?? (config.temporal.workflowBundle ? { codePath: config.temporal.workflowBundle } : await cachedWorkflowBundle(join(config.dataDir, 'cache'))),
    activities: createActivities({ pool, geo, temporal: client, taskQueue, recoveryMinAgeSeconds: config.ingest.recoveryMinAgeSeconds,
      anchoring: chain && { chain, log: log.child({ component: 'anchoring' }) } }),
    maxConcurrentActivityTaskExecutions: 32,
    maxConcurrentLocalActivityExecutions: 32,
    shutdownGraceTime: '10 seconds',
  });
  log.info('worker running', { taskQueue, namespace });
  const run = worker.run().finally(async () => {
    await Promise.allSettled([nativeConnection.close(), connection.close(), pool.end()]);
  });
  return {
    run,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
    },
  };
}
