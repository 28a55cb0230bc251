import { ActivityFailure, ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/mod.ts';
import { anchorDayWorkflowId, type AnchorDayInput, type AnchorDayResult } from './ids.ts';

// Building trees reads a whole day of event hashes; mistakes in the request are not retried.
const { findDaysToAnchor, prepareAnchorRun } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry: {
    initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['InvalidDay', 'DayNotClosed', 'AnchorOutOfOrder', 'ChainOrderBroken', 'AnchoringDisabled'],
  },
});

// The chain may be down for hours: retry without limit, at most 30 s apart. Each failed
// attempt leaves the run `failed` with its reason, and resending is safe (same signed bytes).
const { sendAnchorTransaction } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['UnknownAnchorRun', 'NoSigner', 'AnchoringDisabled'] },
});

// Waiting for confirmations polls inside the activity (heartbeats); a dead node fails it and
// it is retried like sending.
const { confirmAnchorTransaction } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['TransactionAbandoned', 'AnchorTransactionInvalid', 'UnknownAnchorRun', 'AnchoringDisabled'],
  },
});

/** A transaction that can never be mined is replaced; more than this many times means something else is wrong. */
const MAX_REPLACEMENTS = 20;

function isAbandoned(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === 'TransactionAbandoned';
}

/**
 * Anchors one closed UTC day: builds every workspace's tree and the global tree (stored as
 * one run), sends the one transaction carrying the global root, and waits until it is
 * confirmed. A day without events anywhere stores and sends nothing. Safe to run again for
 * the same day: it finds the stored run and its stored transaction.
 */
export async function anchorDay(input: AnchorDayInput): Promise<AnchorDayResult> {
  const prepared = await prepareAnchorRun({ day: input.day });
  const base = { day: input.day, runId: prepared.runId, anchors: prepared.anchors, events: prepared.events, globalRoot: prepared.globalRoot };
  if (!prepared.runId) return { ...base, status: 'empty', txHash: null, blockNumber: null };
  for (let replacements = 0; ; replacements++) {
    await sendAnchorTransaction({ runId: prepared.runId });
    try {
      const confirmed = await confirmAnchorTransaction({ runId: prepared.runId });
      return { ...base, status: 'confirmed', txHash: confirmed.txHash, blockNumber: confirmed.blockNumber };
    } catch (error) {
      if (!isAbandoned(error) || replacements >= MAX_REPLACEMENTS) throw error;
    }
  }
}

/** Days caught up per scheduled run; the next run continues where this one stopped. */
const CATCH_UP_DAYS = 31;

/**
 * Run by the daily schedule: anchors every closed day with events since the last anchored
 * one, oldest first (anchors link to their predecessor, so days go in order).
 */
export async function anchorClosedDays(): Promise<{ days: AnchorDayResult[] }> {
  const days = await findDaysToAnchor({ limit: CATCH_UP_DAYS });
  const results: AnchorDayResult[] = [];
  for (const day of days) {
    results.push(await executeChild(anchorDay, {
      workflowId: anchorDayWorkflowId(workflowInfo().taskQueue, day),
      args: [{ day }],
    }));
  }
  return { days: results };
}
