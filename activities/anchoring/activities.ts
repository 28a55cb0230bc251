/**
 * The anchoring activities (workflows/anchor-day.ts orchestrates them). Without a chain
 * configured they fail at once and say so, instead of retrying forever.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import { silentLogger, type Logger } from '../../log/mod.ts';
import type { AnchorChain } from './chain.ts';
import { closedDaysToAnchor, prepareAnchorRun, type PreparedRun } from './prepare.ts';
import { confirmAnchorTransaction, sendAnchorTransaction } from './send.ts';

export interface AnchoringDeps {
  chain: AnchorChain;
  log?: Logger;
  /** How long a transaction must look unminable before another is signed (default 10 min). */
  abandonAfterMs?: number;
  /** Between checks while waiting for confirmations (default 1 s). */
  pollMs?: number;
}

function heartbeat(): void {
  try { Context.current().heartbeat(); } catch { /* called outside an activity (tests) */ }
}

/** Context.sleep ends early when the activity is cancelled, so a shutting-down worker is not held up. */
async function sleep(ms: number): Promise<void> {
  let context: Context | undefined;
  try { context = Context.current(); } catch { /* outside an activity */ }
  await (context ? context.sleep(ms) : new Promise<void>((r) => setTimeout(r, ms)));
}

export function createAnchoringActivities(pool: pg.Pool, anchoring: AnchoringDeps | undefined) {
  const configured = (): AnchoringDeps => {
    if (!anchoring) throw ApplicationFailure.nonRetryable('anchoring is not configured on this worker: set EVM_RPC_URL (and ANCHOR_PRIVATE_KEY off the local chain)', 'AnchoringDisabled');
    return anchoring;
  };
  const sendDeps = () => {
    const a = configured();
    return { pool, chain: a.chain, log: a.log ?? silentLogger, abandonAfterMs: a.abandonAfterMs, pollMs: a.pollMs, heartbeat, sleep };
  };
  return {
    /** Closed days with events after the last anchored one, oldest first. */
    async findDaysToAnchor(input: { limit: number }): Promise<string[]> {
      configured();
      return await closedDaysToAnchor(pool, input.limit);
    },

    /** Builds and stores a day's anchors and global root (idempotent); runId null for a day without events. */
    async prepareAnchorRun(input: { day: string }): Promise<PreparedRun> {
      const { chain } = configured();
      return await prepareAnchorRun(pool, { name: chain.name, chainId: chain.chainId }, input.day);
    },

    /** Signs the run's transaction once, stores it, broadcasts it (idempotent). */
    async sendAnchorTransaction(input: { runId: string }): Promise<{ txHash: string; status: string }> {
      return await sendAnchorTransaction(sendDeps(), input.runId);
    },

    /** Waits for the configured confirmations; `TransactionAbandoned` when it can never be mined. */
    async confirmAnchorTransaction(input: { runId: string }): Promise<{ txHash: string; blockNumber: number; confirmations: number }> {
      return await confirmAnchorTransaction(sendDeps(), input.runId);
    },
  };
}

export type { PreparedRun } from './prepare.ts';
