/**
 * The public JSON shapes of anchors (docs/api/anchors.md). Hashes are lowercase hex without
 * prefix, as everywhere in Sealtrail; transaction hashes and addresses keep the 0x prefix
 * EVM tools expect.
 */
import { ANCHOR_CHAIN_DEFAULTS, type AnchorChainName } from '../../config/mod.ts';
import type { AnchorTransactionRef } from '../../core/mod.ts';
import type { AnchorRun, AnchorWithRun } from '../../store/mod.ts';

/** Where a run's transaction can be seen: the configured explorer for the configured chain, else the chain's default. */
export interface ExplorerLookup { chain?: string; explorerUrl?: string }

export function explorerUrlOf(run: AnchorRun, configured: ExplorerLookup): string | null {
  if (!run.tx_hash) return null;
  const base = run.chain === configured.chain ? configured.explorerUrl : ANCHOR_CHAIN_DEFAULTS[run.chain as AnchorChainName]?.explorerUrl;
  return base ? `${base}/tx/${run.tx_hash}` : null;
}

/** `GET /anchors` items: the contract's fields, plus the failure reason. */
export function presentAnchor({ anchor, run }: AnchorWithRun, explorer: ExplorerLookup) {
  return {
    id: anchor.id,
    merkle_root: anchor.merkle_root,
    previous_anchor_hash: anchor.previous_anchor_hash,
    events_count: anchor.events_count,
    period_start: anchor.period_start,
    period_end: anchor.period_end,
    chain: run.chain,
    status: run.status,
    tx_hash: run.tx_hash,
    block_number: run.block_number,
    explorer_url: explorerUrlOf(run, explorer),
    error: run.error,
    created_at: anchor.created_at,
  };
}

/** `GET /anchors/{id}`: adds the end hashes, the anchor's own hash and its place in the global tree. */
export function presentAnchorDetail(found: AnchorWithRun, explorer: ExplorerLookup) {
  const { anchor, run } = found;
  return {
    ...presentAnchor(found, explorer),
    first_event_hash: anchor.first_event_hash,
    last_event_hash: anchor.last_event_hash,
    anchor_hash: anchor.anchor_hash,
    previous_anchor_id: anchor.previous_anchor_id,
    global_root: run.global_root,
    global_index: anchor.global_index,
    global_size: run.anchors_count,
    chain_id: run.chain_id,
    signer: run.signer,
    attempts: run.attempts,
    submitted_at: run.submitted_at,
    confirmed_at: run.confirmed_at,
  };
}

/** The transaction part of proofs and bundles. */
export function transactionRef(run: AnchorRun, explorer: ExplorerLookup): AnchorTransactionRef {
  return {
    chain: run.chain, chain_id: run.chain_id, tx_hash: run.tx_hash, block_number: run.block_number,
    signer: run.signer, status: run.status, explorer_url: explorerUrlOf(run, explorer),
  };
}
