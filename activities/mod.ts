/**
 * Every side effect of a workflow. Activities come from a factory so the worker wires real
 * resources and a test wires isolated real ones.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { findPendingBatches } from '../store/mod.ts';
import { startIngestWorkflow } from '../workflows/client.ts';
import type { IngestBatchResult } from '../workflows/ids.ts';
import { appendBatchesToChain, placesOfBatches, type BatchPlaces } from './append.ts';
import type { GeoLookup } from './geo.ts';
import { createAnchoringActivities, type AnchoringDeps } from './anchoring/activities.ts';

export { defaultGeoPaths, openGeoLookup, type GeoLookup, type Place } from './geo.ts';
export type { BatchPlaces } from './append.ts';
export type { AnchoringDeps, PreparedRun } from './anchoring/activities.ts';
export { anchorChainFromConfig, LOCAL_DEV_PRIVATE_KEY, openAnchorChain, readAnchorTransaction, type AnchorChain } from './anchoring/chain.ts';

export interface ActivityDeps {
  pool: pg.Pool;
  geo: GeoLookup;
  /** Used by the recovery sweep to start workflows for stranded batches. */
  temporal: Client;
  taskQueue: string;
  recoveryMinAgeSeconds: number;
  /** The chain anchors go to; without it the anchoring activities fail and say why. */
  anchoring?: AnchoringDeps;
}

export function createActivities({ pool, geo, temporal, taskQueue, recoveryMinAgeSeconds, anchoring }: ActivityDeps) {
  return {
    ...createAnchoringActivities(pool, anchoring),

    /** Geo enrichment of the batches' IP addresses (runs as a local activity). */
    async enrichBatches(batchIds: string[]): Promise<BatchPlaces[]> {
      return await placesOfBatches(pool, batchIds, geo.lookup);
    },

    /** Hashes the batches onto their workspace's chain and stores them; idempotent. */
    async appendBatches(input: { batchIds: string[]; places: BatchPlaces[] }): Promise<IngestBatchResult> {
      return await appendBatchesToChain(pool, input.batchIds, input.places, geo.lookup);
    },

    /** Starts the workflow of every batch handed off a while ago and still not in the chain. */
    async startStrandedBatches(): Promise<{ found: number; started: number }> {
      const batches = await findPendingBatches(pool, recoveryMinAgeSeconds);
      let started = 0;
      for (const batch of batches) {
        if (await startIngestWorkflow(temporal, taskQueue, { workspaceId: batch.workspace_id, batchIds: [batch.id] })) started++;
      }
      return { found: batches.length, started };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
