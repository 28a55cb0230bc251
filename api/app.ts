import Koa from 'koa';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from '../log/mod.ts';
import { errorHandler } from './errors.ts';
import { serverTiming } from './timing.ts';
import { createHandOff } from './events/handoff.ts';
import { GroupCommit } from './events/group-commit.ts';
import { DEFAULT_WORKFLOW_INTERVAL_MS, WorkflowStarter } from './events/workflow-starter.ts';
import { ingestRoutes } from './events/ingest-routes.ts';
import { queryRoutes } from './events/query-routes.ts';
import { ReadGate, readLimitsFor, type ReadLimits } from './events/read-gate.ts';
import { healthRoutes } from './health.ts';
import { verifyRoutes } from './verify/routes.ts';
import { anchorRoutes, type AnchorApiDeps } from './anchors/routes.ts';
import { proofRoutes } from './events/proof-routes.ts';

export interface AppDeps {
  pool: pg.Pool;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  /** Group commit window and size; `workflowIntervalMs` paces each workspace's workflow starts (default {@link DEFAULT_WORKFLOW_INTERVAL_MS}). */
  ingest: { groupCommitMs: number; groupMaxEvents: number; workflowIntervalMs?: number };
  /** Chain access and public rate limit of the anchor routes (optional: onchain_valid is null without a chain). */
  anchoring?: AnchorApiDeps;
  /** Event reads admitted per workspace at once (default: from the pool's size, see `readLimitsFor`). */
  reads?: ReadLimits;
}

export interface App {
  koa: Koa;
  /** Closes the intake: resolves when every accepted group is written and its workflow start attempted. */
  drain(): Promise<void>;
}

/**
 * Builds the Koa application from its dependencies; nothing is read from globals, so a test
 * builds one over an isolated database and task queue.
 *
 * ```ts
 * const { koa } = createApp({ pool, temporal, taskQueue: 'sealtrail', log, ingest: { groupCommitMs: 4, groupMaxEvents: 1000 } });
 * koa.listen(3000);
 * ```
 */
export function createApp(deps: AppDeps): App {
  const koa = new Koa({ proxy: false });
  const starter = new WorkflowStarter(deps.temporal, deps.taskQueue, deps.log, {
    concurrency: 8, maxQueued: 10_000, maxEventsPerWorkflow: 5000, minIntervalMs: deps.ingest.workflowIntervalMs ?? DEFAULT_WORKFLOW_INTERVAL_MS,
  });
  // One workspace's heavy reads (event lists, searches, chain verification) share its slots.
  const reads = new ReadGate(deps.reads ?? readLimitsFor(deps.pool.options.max ?? 10));
  const groups = new GroupCommit(createHandOff({ pool: deps.pool, starter, log: deps.log }), { windowMs: deps.ingest.groupCommitMs, maxEvents: deps.ingest.groupMaxEvents });
  koa.use(errorHandler(deps.log));
  koa.use(serverTiming());
  for (const router of [healthRoutes(deps.pool, deps.temporal), ingestRoutes(deps.pool, groups), queryRoutes(deps.pool, reads), verifyRoutes(deps.pool, reads),
    anchorRoutes(deps.pool, deps.anchoring), proofRoutes(deps.pool, deps.anchoring)]) {
    koa.use(router.routes());
    koa.use(router.allowedMethods());
  }
  const drain = async () => {
    await groups.idle();
    await starter.drain();
  };
  return { koa, drain };
}
