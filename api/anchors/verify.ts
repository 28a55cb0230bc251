/**
 * Verifying a stored anchor now (docs/api/anchors.md, "Verify"): three independent answers.
 *
 * - `valid`: the day's events as stored now, each re-hashed from its fields, still make up
 *   the anchored merkle_root (so any edit, insertion or deletion since shows);
 * - `chain_valid`: the anchor record still hashes to its anchor hash, and it links to the
 *   workspace's previous anchor (and the day's first event to that anchor's last event);
 * - `onchain_valid`: read from the chain itself: the anchor's path leads to the global root
 *   and the transaction carries exactly that root. null when the chain cannot be asked.
 */
import type pg from 'pg';
import {
  anchorRecordHash, checkAnchorTransaction, checkInclusion, computeEventHash, fromHex, hashLeaf, rootOfHashes, SUBTREE_SIZE,
  toHex, type StoredChainedEvent,
} from '../../core/mod.ts';
import { genesisHash, readAnchorTransaction, describeChainError, type AnchorChain } from '../../activities/anchoring/chain.ts';
import { anchorRecordOf, EVENT_COLUMNS, eventFromRow, findStoredAnchor, previousAnchorOf, type AnchorWithRun } from '../../store/mod.ts';
import { explorerUrlOf, type ExplorerLookup } from './presenter.ts';

export interface AnchorVerifyDeps { pool: pg.Pool; chain?: AnchorChain; explorer: ExplorerLookup }

/** One failed check: which answer it affects, a machine code and a human message. */
export interface AnchorProblem { check: 'valid' | 'chain_valid' | 'onchain_valid'; code: string; message: string }

const PAGE = 5000;

interface Recomputed { root: string; count: number; mismatched: number; firstPrevious: string | null | undefined }

/** Re-hashes the day's stored events in chain order and builds the root over the results. */
async function recomputeRoot(pool: pg.Pool, { anchor }: AnchorWithRun): Promise<Recomputed> {
  const runRoots: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let count = 0;
  let mismatched = 0;
  let firstPrevious: string | null | undefined;
  for (let afterSeq = -1; ;) {
    const { rows } = await pool.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3 AND seq > $4 ORDER BY seq LIMIT $5`,
      [anchor.workspace_id, anchor.period_start, anchor.period_end, afterSeq, PAGE]);
    for (const row of rows) {
      const event: StoredChainedEvent = eventFromRow(row);
      if (count === 0) firstPrevious = event.previous_event_hash;
      let hash: string;
      try { hash = computeEventHash(event, event.previous_event_hash); } catch { hash = ''; }
      if (hash !== event.event_hash) mismatched++;
      // An unhashable event cannot be part of any valid root: an all-zero leaf input stands in.
      run.push(hashLeaf(hash ? fromHex(hash) : new Uint8Array(32)));
      if (run.length === SUBTREE_SIZE) { runRoots.push(rootOfHashes(run)); run = []; }
      count++;
    }
    if (rows.length < PAGE) break;
    afterSeq = rows[rows.length - 1]!.seq as number;
  }
  if (run.length > 0) runRoots.push(rootOfHashes(run));
  return { root: toHex(rootOfHashes(runRoots)), count, mismatched, firstPrevious };
}

async function checkAnchorChain(pool: pg.Pool, { anchor }: AnchorWithRun, firstPrevious: string | null | undefined): Promise<AnchorProblem[]> {
  const out: AnchorProblem[] = [];
  const problem = (code: string, message: string) => out.push({ check: 'chain_valid', code, message });
  if (anchorRecordHash(anchorRecordOf(anchor)) !== anchor.anchor_hash) {
    problem('anchor_hash_mismatch', 'the stored anchor record no longer hashes to its anchor hash');
  }
  const latestBefore = await previousAnchorOf(pool, anchor.workspace_id, anchor.period_start);
  if ((latestBefore?.id ?? null) !== anchor.previous_anchor_id) {
    problem('previous_anchor_skipped', `the anchor links to ${anchor.previous_anchor_id ?? 'no previous anchor'}, but the workspace's latest earlier anchor is ${latestBefore?.id ?? 'none'}`);
  }
  if (anchor.previous_anchor_id) {
    const previous = await findStoredAnchor(pool, anchor.previous_anchor_id);
    if (!previous) {
      problem('previous_anchor_missing', `previous anchor ${anchor.previous_anchor_id} no longer exists`);
    } else {
      const hash = anchorRecordHash(anchorRecordOf(previous));
      if (hash !== anchor.previous_anchor_hash) problem('previous_anchor_mismatch', `previous anchor record hashes to ${hash}, but this anchor links to ${anchor.previous_anchor_hash}`);
      if (firstPrevious !== undefined && firstPrevious !== previous.last_event_hash) {
        problem('events_unlinked', `the day's first event links to ${String(firstPrevious)}, not to the previous anchor's last event ${previous.last_event_hash}`);
      }
    }
  }
  return out;
}

interface OnChain { ok: boolean | null; confirmations: number | null; problems: AnchorProblem[] }

async function checkOnChain(deps: AnchorVerifyDeps, { anchor, run }: AnchorWithRun): Promise<OnChain> {
  const problems: AnchorProblem[] = [];
  const problem = (code: string, message: string) => problems.push({ check: 'onchain_valid', code, message });
  const global = checkInclusion(anchor.anchor_hash, { leaf_index: anchor.global_index, tree_size: run.anchors_count, path: anchor.global_path }, run.global_root);
  if (global) problem('global_inclusion_failed', `the anchor's path does not lead to the global root (${global.code}): ${global.message}`);
  if (!run.tx_hash) {
    problem('not_sent', `the global root has not been sent yet (status ${run.status}${run.error ? `: ${run.error}` : ''})`);
    return { ok: false, confirmations: null, problems };
  }
  const chain = deps.chain;
  // Cannot ask the chain: unknown (null), unless the global path already failed.
  const unknown = (code: string, message: string): OnChain => ({ ok: problems.length > 0 ? false : null, confirmations: null, problems: [...problems, { check: 'onchain_valid', code, message }] });
  if (!chain) return unknown('chain_not_configured', 'this API has no chain RPC configured (EVM_RPC_URL)');
  if (chain.chainId !== run.chain_id) return unknown('other_chain', `anchored on chain ${run.chain_id}; this API reads chain ${chain.chainId}`);
  try {
    const observed = await readAnchorTransaction(chain.client, run.tx_hash);
    const verdict = checkAnchorTransaction({
      chainId: run.chain_id, txHash: run.tx_hash, globalRoot: run.global_root, treeSize: run.anchors_count,
      day: anchor.period_start.slice(0, 10), signer: run.signer, blockNumber: run.block_number,
    }, observed);
    for (const f of verdict.failures) problems.push({ check: 'onchain_valid', code: f.code, message: f.message });
    if (verdict.failures.some((f) => f.code === 'tx_not_found') && run.genesis_hash && (await genesisHash(chain.client)).toLowerCase() !== run.genesis_hash) {
      problem('chain_reset', `chain ${run.chain_id} was restarted since this anchor was sent (its genesis block changed): the local development chain keeps its blocks in memory only, so anchors sent before a restart cannot be checked on it`);
    }
    return { ok: problems.length === 0, confirmations: verdict.confirmations, problems };
  } catch (error) {
    return unknown('chain_unreachable', describeChainError(error, chain.rpcUrl));
  }
}

/** The three answers for one anchor, with every problem found. */
export async function verifyAnchor(deps: AnchorVerifyDeps, found: AnchorWithRun) {
  const { anchor, run } = found;
  const recomputed = await recomputeRoot(deps.pool, found);
  const problems: AnchorProblem[] = [];
  if (recomputed.mismatched > 0) {
    problems.push({ check: 'valid', code: 'hash_mismatch', message: `${recomputed.mismatched} stored event(s) of the day no longer hash to their stored event_hash` });
  }
  if (recomputed.count !== anchor.events_count) {
    problems.push({ check: 'valid', code: 'count_mismatch', message: `the day has ${recomputed.count} stored event(s); the anchor covers ${anchor.events_count}` });
  }
  if (recomputed.root !== anchor.merkle_root) {
    problems.push({ check: 'valid', code: 'root_mismatch', message: `the stored events make up root ${recomputed.root}, not the anchored ${anchor.merkle_root}` });
  }
  problems.push(...await checkAnchorChain(deps.pool, found, recomputed.firstPrevious));
  const onChain = await checkOnChain(deps, found);
  problems.push(...onChain.problems);
  return {
    anchor_id: anchor.id,
    merkle_root: anchor.merkle_root,
    valid: !problems.some((p) => p.check === 'valid'),
    chain_valid: !problems.some((p) => p.check === 'chain_valid'),
    onchain_valid: onChain.ok,
    expected: anchor.merkle_root,
    actual: recomputed.root,
    events_count: anchor.events_count,
    events_checked: recomputed.count,
    global_root: run.global_root,
    status: run.status,
    tx_hash: run.tx_hash,
    block_number: run.block_number,
    confirmations: onChain.confirmations,
    explorer_url: explorerUrlOf(run, deps.explorer),
    problems,
  };
}
