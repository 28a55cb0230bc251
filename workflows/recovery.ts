import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/mod.ts';

const { startStrandedBatches } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/**
 * Run by a schedule: starts the ingestion workflow of any batch whose hand-off committed but
 * whose workflow never started (the API crashed in between, or Temporal was unreachable).
 */
export async function recoverStrandedBatches(): Promise<{ found: number; started: number }> {
  return await startStrandedBatches();
}
