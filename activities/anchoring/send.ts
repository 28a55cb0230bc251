/**
 * Sending a run's one transaction and waiting for it, so that no root is ever sent twice:
 *
 * - it is signed once, with a fixed nonce, and the signed bytes are stored before anything
 *   is broadcast; every retry re-sends those same bytes, which the chain can include at most
 *   once;
 * - a retry first asks whether that transaction is already mined;
 * - a new transaction is signed only when the stored one provably can never be mined: its
 *   nonce was used by another transaction (observed for a while, so a lagging RPC backend
 *   cannot trigger it), or the chain it was signed for is gone (a restarted development
 *   node, recognised by a different genesis block).
 *
 * Every failed attempt leaves the run `failed` with the reason; the workflow retries.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import type { Hex } from 'viem';
import { checkAnchorTransaction, encodeAnchorPayload } from '../../core/mod.ts';
import type { Logger } from '../../log/mod.ts';
import { findRun, inTransaction, type AnchorRun } from '../../store/mod.ts';
import { describeChainError, genesisHash, rawTransactionHash, readAnchorTransaction, type AnchorChain } from './chain.ts';

export interface SendDeps {
  pool: pg.Pool;
  chain: AnchorChain;
  log: Logger;
  /** How long a transaction must look unminable before another is signed (default 10 min). */
  abandonAfterMs?: number;
  /** Between checks while waiting for confirmations (default 1 s). */
  pollMs?: number;
  /** Called while waiting, so Temporal knows the activity is alive. */
  heartbeat?: () => void;
  /** Waits between checks; rejects when the activity is cancelled (worker shutting down). */
  sleep?: (ms: number) => Promise<void>;
}

const buf = (hex: string) => Buffer.from(hex.startsWith('0x') ? hex.slice(2) : hex, 'hex');

/** Stores the reason of a failed attempt: status `failed` (unless already confirmed), attempts + 1. */
export async function recordAttemptFailure(pool: pg.Pool, runId: string, reason: string): Promise<void> {
  await pool.query(
    `UPDATE anchor_runs SET status = CASE WHEN status = 'confirmed' THEN status ELSE 'failed' END,
            error = $2, attempts = attempts + 1, updated_at = now() WHERE id = $1`, [runId, reason.slice(0, 2000)]);
}

/** Runs one attempt; a failure is recorded on the run and rethrown as a retryable activity failure. */
async function attempt<T>(deps: SendDeps, runId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApplicationFailure) {
      await recordAttemptFailure(deps.pool, runId, error.message);
      throw error;
    }
    const reason = describeChainError(error, deps.chain.rpcUrl);
    deps.log.warn('anchor attempt failed', { runId, reason });
    await recordAttemptFailure(deps.pool, runId, reason);
    throw ApplicationFailure.retryable(reason, 'AnchorChainError');
  }
}

async function loadRun(pool: pg.Pool, runId: string): Promise<AnchorRun> {
  const run = await findRun(pool, runId);
  if (!run) throw ApplicationFailure.nonRetryable(`anchor run ${runId} does not exist`, 'UnknownAnchorRun');
  return run;
}

async function assertExpectedChain(chain: AnchorChain): Promise<void> {
  const id = await chain.client.getChainId();
  if (id !== chain.chainId) {
    throw ApplicationFailure.retryable(`the RPC node serves chain ${id}, but ANCHOR_CHAIN=${chain.name} is chain ${chain.chainId}`, 'WrongChain');
  }
}

/** Gives up a stored transaction that can never be mined, keeping it in abandoned_txs. */
async function abandon(deps: SendDeps, run: AnchorRun, reason: string): Promise<void> {
  await deps.pool.query(
    `UPDATE anchor_runs SET abandoned_txs = abandoned_txs || jsonb_build_array(jsonb_build_object('tx_hash', $2::text, 'nonce', $3::bigint, 'reason', $4::text, 'at', now())),
            raw_tx = NULL, tx_hash = NULL, nonce = NULL, genesis_hash = NULL, unminable_since = NULL, status = 'pending', error = $4, updated_at = now()
      WHERE id = $1 AND tx_hash = $5`, [run.id, run.tx_hash, run.nonce, reason, buf(run.tx_hash!)]);
  deps.log.warn('anchor transaction abandoned; a new one will be signed', { runId: run.id, txHash: run.tx_hash, reason });
}

/** Signs the run's transaction once and stores it, unless it is signed already. */
async function signOnce(deps: SendDeps, run: AnchorRun): Promise<AnchorRun> {
  const { chain } = deps;
  const account = chain.account;
  if (!account) throw ApplicationFailure.nonRetryable('no anchoring key: set ANCHOR_PRIVATE_KEY', 'NoSigner');
  const data = encodeAnchorPayload({ globalRoot: run.global_root, day: run.period_start.slice(0, 10), treeSize: run.anchors_count });
  const [pendingNonce, fees, genesis, gas] = await Promise.all([
    chain.client.getTransactionCount({ address: account.address, blockTag: 'pending' }),
    chain.client.estimateFeesPerGas(),
    genesisHash(chain.client),
    chain.client.estimateGas({ account: account.address, to: account.address, data, value: 0n }),
  ]);
  const signer = buf(account.address.toLowerCase());
  await inTransaction(deps.pool, async (client) => {
    // One signer, one nonce sequence: runs signing at the same time take turns.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7411904))', [account.address.toLowerCase()]);
    const { rows: [current] } = await client.query<{ raw_tx: Buffer | null }>('SELECT raw_tx FROM anchor_runs WHERE id = $1 FOR UPDATE', [run.id]);
    if (current?.raw_tx) return;
    // Unconfirmed transactions of ours on this chain may not be in the node's pending count
    // (dropped from its mempool); never reuse their nonces.
    const { rows: [open] } = await client.query<{ max: number | null }>(
      `SELECT max(nonce) AS max FROM anchor_runs WHERE signer = $1 AND genesis_hash = $2 AND raw_tx IS NOT NULL AND status <> 'confirmed'`,
      [signer, buf(genesis)]);
    const nonce = Math.max(pendingNonce, open?.max == null ? 0 : open.max + 1);
    const raw = await account.signTransaction({
      chainId: chain.chainId, type: 'eip1559', to: account.address, value: 0n, data, nonce, gas: gas + gas / 5n,
      // Headroom so a rising base fee does not strand the transaction; only what is used is paid.
      maxFeePerGas: fees.maxFeePerGas * 2n + fees.maxPriorityFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    await client.query(
      `UPDATE anchor_runs SET signer = $2, nonce = $3, raw_tx = $4, tx_hash = $5, genesis_hash = $6, unminable_since = NULL, updated_at = now()
        WHERE id = $1`, [run.id, signer, nonce, buf(raw), buf(rawTransactionHash(raw)), buf(genesis)]);
    deps.log.info('anchor transaction signed', { runId: run.id, day: run.period_start.slice(0, 10), txHash: rawTransactionHash(raw), nonce });
  });
  return await loadRun(deps.pool, run.id);
}

/** Broadcasts the stored bytes; "already known" and "nonce too low" are left to the confirmation step. */
async function broadcast(chain: AnchorChain, raw: Hex): Promise<void> {
  try {
    await chain.client.sendRawTransaction({ serializedTransaction: raw });
  } catch (error) {
    const text = `${(error as { details?: string }).details ?? ''} ${(error as Error).message}`.toLowerCase();
    if (/already known|known transaction|already imported|nonce too low|nonce has already been used|replacement transaction underpriced/.test(text)) return;
    throw error;
  }
}

/** True when the chain the transaction was signed for is no longer the one the node serves. */
async function chainWasReset(chain: AnchorChain, run: AnchorRun): Promise<boolean> {
  return run.genesis_hash !== null && (await genesisHash(chain.client)).toLowerCase() !== run.genesis_hash;
}

/**
 * Makes sure the run's transaction is signed, stored and broadcast (idempotent). Returns the
 * transaction hash.
 */
export async function sendAnchorTransaction(deps: SendDeps, runId: string): Promise<{ txHash: string; status: string }> {
  return await attempt(deps, runId, async () => {
    let run = await loadRun(deps.pool, runId);
    if (run.status === 'confirmed') return { txHash: run.tx_hash!, status: run.status };
    await assertExpectedChain(deps.chain);
    if (run.raw_tx && await chainWasReset(deps.chain, run)) {
      await abandon(deps, run, `the chain transaction ${run.tx_hash} was signed for is gone (genesis block changed: a restarted development node)`);
      run = await loadRun(deps.pool, runId);
    }
    if (!run.raw_tx) run = await signOnce(deps, run);
    const observed = await readAnchorTransaction(deps.chain.client, run.tx_hash!);
    if (!observed.receipt) await broadcast(deps.chain, run.raw_tx!);
    await deps.pool.query(
      `UPDATE anchor_runs SET status = 'submitted', submitted_at = coalesce(submitted_at, now()), error = NULL, updated_at = now()
        WHERE id = $1 AND status <> 'confirmed'`, [runId]);
    return { txHash: run.tx_hash!, status: 'submitted' };
  });
}

/**
 * Waits until the run's transaction has the configured confirmations, then marks the run
 * confirmed. Re-broadcasts the same bytes while it is not mined. Throws
 * `TransactionAbandoned` (not retried: the workflow signs anew) when it can never be mined.
 */
export async function confirmAnchorTransaction(deps: SendDeps, runId: string): Promise<{ txHash: string; blockNumber: number; confirmations: number }> {
  const { chain, pool } = deps;
  const abandonAfter = deps.abandonAfterMs ?? 600_000;
  for (;;) {
    const result = await attempt(deps, runId, async () => {
      const run = await loadRun(pool, runId);
      if (run.status === 'confirmed') return { txHash: run.tx_hash!, blockNumber: run.block_number!, confirmations: chain.confirmations };
      if (!run.raw_tx) throw ApplicationFailure.nonRetryable('the run has no signed transaction to wait for', 'TransactionAbandoned');
      await assertExpectedChain(chain);
      if (await chainWasReset(chain, run)) {
        await abandon(deps, run, `the chain transaction ${run.tx_hash} was signed for is gone (genesis block changed: a restarted development node)`);
        throw ApplicationFailure.nonRetryable('transaction abandoned: its chain was reset', 'TransactionAbandoned');
      }
      // Nonce first, then the receipt: a nonce already used with no receipt for ours means
      // another transaction took it.
      const usedNonces = await chain.client.getTransactionCount({ address: run.signer!, blockTag: 'latest' });
      const observed = await readAnchorTransaction(chain.client, run.tx_hash!);
      if (!observed.receipt) {
        if (usedNonces > run.nonce!) {
          const { rows: [r] } = await pool.query<{ since_ms: number }>(
            `UPDATE anchor_runs SET unminable_since = coalesce(unminable_since, now()), updated_at = now() WHERE id = $1
             RETURNING (extract(epoch FROM now() - unminable_since) * 1000)::float8 AS since_ms`, [runId]);
          if (r!.since_ms >= abandonAfter) {
            await abandon(deps, run, `nonce ${run.nonce} of ${run.signer} was used by another transaction; ${run.tx_hash} can never be mined`);
            throw ApplicationFailure.nonRetryable('transaction abandoned: its nonce was used by another transaction', 'TransactionAbandoned');
          }
        } else {
          await broadcast(chain, run.raw_tx);
        }
        return undefined;
      }
      const verdict = checkAnchorTransaction({
        chainId: chain.chainId, txHash: run.tx_hash!, globalRoot: run.global_root, treeSize: run.anchors_count,
        day: run.period_start.slice(0, 10), signer: run.signer, minConfirmations: chain.confirmations,
      }, observed);
      const fatal = verdict.failures.find((f) => f.code !== 'too_few_confirmations');
      if (fatal) throw ApplicationFailure.nonRetryable(`anchor transaction ${run.tx_hash} failed its check: ${fatal.message}`, 'AnchorTransactionInvalid');
      if (!verdict.ok) {
        await pool.query(`UPDATE anchor_runs SET status = 'submitted', error = NULL, unminable_since = NULL, updated_at = now() WHERE id = $1 AND status <> 'confirmed'`, [runId]);
        return undefined;
      }
      const block = await chain.client.getBlock({ blockNumber: BigInt(observed.receipt.blockNumber) });
      await pool.query(
        `UPDATE anchor_runs SET status = 'confirmed', block_number = $2, block_hash = $3, confirmed_at = now(), error = NULL,
                unminable_since = NULL, updated_at = now() WHERE id = $1`, [runId, observed.receipt.blockNumber, buf(block.hash)]);
      deps.log.info('anchor confirmed', { runId, day: run.period_start.slice(0, 10), txHash: run.tx_hash, blockNumber: observed.receipt.blockNumber });
      return { txHash: run.tx_hash!, blockNumber: observed.receipt.blockNumber, confirmations: verdict.confirmations };
    });
    if (result) return result;
    deps.heartbeat?.();
    await (deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms))))(deps.pollMs ?? 1000);
  }
}
