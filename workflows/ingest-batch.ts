import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/mod.ts';
import type { IngestBatchInput, IngestBatchResult } from './ids.ts';

// Both steps run as local activities: no server round trip per step, and when a worker dies
// mid-append the workflow task times out and another worker replays and re-runs the step (the
// append is idempotent), within seconds rather than after an activity timeout.
const { enrichBatches } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

// Appending must eventually succeed (the events are already accepted): retry without limit.
const { appendBatches } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['UnknownBatch', 'NoChainHead', 'MixedWorkspaces'] },
});

/**
 * Accepted batches of one workspace (usually one), from inbox to chain: geo enrichment, then the
 * append. The history holds ids, counts, chain positions and per-position country/city codes,
 * never event bodies.
 */
export async function ingestBatch(input: IngestBatchInput): Promise<IngestBatchResult> {
  const places = await enrichBatches(input.batchIds);
  const result = await appendBatches({ batchIds: input.batchIds, places });

  // ── After the events are in the chain ─────────────────────────────────────────────────
  // Steps that act on stored events (alert-rule evaluation, log-stream fan-out) belong here,
  // on the seq range result.firstSeq..result.lastSeq, so a failing one never blocks the chain.

  return result;
}
