/**
 * How ingestion workflows are named and tagged, shared by every starter (the API's hand-off and
 * the recovery sweep), so a batch maps to exactly one workflow id.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WorkspaceIdKey = defineSearchAttributeKey('WorkspaceId', SearchAttributeType.KEYWORD);
/** Every inbox batch a workflow carries (one, or several coalesced under load). */
export const BatchIdKey = defineSearchAttributeKey('BatchId', SearchAttributeType.KEYWORD_LIST);

export const INGEST_WORKFLOW = 'ingestBatch';
export const RECOVERY_WORKFLOW = 'recoverStrandedBatches';
/** One recovery schedule per task queue (a deployment normally has one queue). */
export const recoveryScheduleId = (taskQueue: string) => `sealtrail-recovery-sweep-${taskQueue}`;

/** Named after the first batch it carries: the id a lone batch's workflow always gets. */
export const ingestWorkflowId = (batchId: string) => `ingest-${batchId}`;

/**
 * What the ingestion workflow receives: ids only, never event bodies. Usually one inbox batch;
 * under load, the API's starter coalesces a workspace's queued batches (in hand-off order) into
 * one workflow, so Temporal's per-workflow cost is paid once for all of them.
 */
export interface IngestBatchInput { workspaceId: string; batchIds: string[] }

/** What it returns: counts and chain positions (null when every batch was already appended). */
export interface IngestBatchResult { batchIds: string[]; appended: number; firstSeq: number | null; lastSeq: number | null }

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
