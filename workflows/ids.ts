/**
 * How ingestion workflows are named and tagged, shared by every starter (the API's hand-off and
 * the recovery sweep), so a batch maps to exactly one workflow id.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WorkspaceIdKey = defineSearchAttributeKey('WorkspaceId', SearchAttributeType.KEYWORD);
export const BatchIdKey = defineSearchAttributeKey('BatchId', SearchAttributeType.KEYWORD);

export const INGEST_WORKFLOW = 'ingestBatch';
export const RECOVERY_WORKFLOW = 'recoverStrandedBatches';
/** One recovery schedule per task queue (a deployment normally has one queue). */
export const recoveryScheduleId = (taskQueue: string) => `sealtrail-recovery-sweep-${taskQueue}`;

export const ingestWorkflowId = (batchId: string) => `ingest-${batchId}`;

/** What the ingestion workflow receives: ids only, never event bodies. */
export interface IngestBatchInput { batchId: string; workspaceId: string }

/** What it returns: counts and chain positions. */
export interface IngestBatchResult { batchId: string; appended: number; firstSeq: number | null; lastSeq: number | null }

export const ANCHOR_DAY_WORKFLOW = 'anchorDay';
export const ANCHOR_SCHEDULE_WORKFLOW = 'anchorClosedDays';
/** One daily anchoring schedule per task queue. */
export const anchorScheduleId = (taskQueue: string) => `sealtrail-anchor-daily-${taskQueue}`;
/** One workflow per day and task queue, so the schedule and the CLI never anchor a day twice at once. */
export const anchorDayWorkflowId = (taskQueue: string, day: string) => `anchor-day-${taskQueue}-${day}`;

/** A UTC day, `YYYY-MM-DD`. */
export interface AnchorDayInput { day: string }

/** What anchoring a day did: nothing (no events anywhere), or one confirmed transaction. */
export interface AnchorDayResult {
  day: string;
  status: 'empty' | 'confirmed';
  runId: string | null;
  anchors: number;
  events: number;
  globalRoot: string | null;
  txHash: string | null;
  blockNumber: number | null;
}
