/**
 * Checking that a transaction really carries a day's global root (docs/integrity.md, "The
 * transaction"). Pure: the caller reads the transaction, its receipt and the chain's height
 * from any RPC node it trusts and passes them in, so the API's `onchain_valid` and the
 * offline CLI reach the same verdict from the same facts.
 */
import { decodeAnchorPayload } from './anchor-payload.ts';

/** What a chain said about a transaction hash. */
export interface ObservedAnchorTransaction {
  chainId: number;
  /** null when the node does not know the transaction. */
  transaction: { hash: string; from: string; input: string; blockNumber: number | null } | null;
  /** null while it is not mined. */
  receipt: { status: 'success' | 'reverted'; blockNumber: number } | null;
  latestBlock: number;
}

/** What the proof or bundle claims. */
export interface ExpectedAnchorTransaction {
  chainId: number;
  txHash: string;
  globalRoot: string;
  treeSize: number;
  day: string;
  /** When given, the sender must be this address. */
  signer?: string | null;
  /** When given, the transaction must be in this block. */
  blockNumber?: number | null;
  /** Blocks on top of (and including) the transaction's; default 1. */
  minConfirmations?: number;
}

export type TransactionFailureCode =
  | 'chain_id_mismatch'
  | 'tx_not_found'
  | 'tx_not_mined'
  | 'tx_reverted'
  | 'tx_not_an_anchor'
  | 'tx_root_mismatch'
  | 'tx_day_mismatch'
  | 'tx_tree_size_mismatch'
  | 'tx_signer_mismatch'
  | 'tx_block_mismatch'
  | 'too_few_confirmations';

export interface TransactionFailure { code: TransactionFailureCode; message: string }

export interface TransactionVerdict {
  ok: boolean;
  /** Blocks from the transaction's block to the chain's head, inclusive; 0 when not mined. */
  confirmations: number;
  failures: TransactionFailure[];
}

/**
 * Compares what the chain says with what the proof claims: same chain, transaction mined and
 * successful, its calldata a version-1 anchor payload carrying exactly the claimed global
 * root, day and tree size, sent by the claimed signer, in the claimed block, with enough
 * confirmations.
 *
 * @example checkAnchorTransaction({ chainId: 8453, txHash, globalRoot, treeSize, day }, observed).ok
 */
export function checkAnchorTransaction(expected: ExpectedAnchorTransaction, observed: ObservedAnchorTransaction): TransactionVerdict {
  const failures: TransactionFailure[] = [];
  const fail = (code: TransactionFailureCode, message: string) => failures.push({ code, message });
  if (observed.chainId !== expected.chainId) {
    fail('chain_id_mismatch', `the RPC node serves chain ${observed.chainId}, but the anchor was sent on chain ${expected.chainId}`);
    return { ok: false, confirmations: 0, failures };
  }
  const tx = observed.transaction;
  if (!tx) {
    fail('tx_not_found', `transaction ${expected.txHash} is not known to chain ${expected.chainId}`);
    return { ok: false, confirmations: 0, failures };
  }
  const payload = decodeAnchorPayload(tx.input);
  if (!payload.ok) {
    fail('tx_not_an_anchor', `transaction ${expected.txHash} does not carry an anchor: ${payload.message}`);
  } else {
    if (payload.globalRoot !== expected.globalRoot) {
      fail('tx_root_mismatch', `transaction ${expected.txHash} carries global root ${payload.globalRoot}, not ${expected.globalRoot}`);
    }
    if (payload.day !== expected.day) fail('tx_day_mismatch', `transaction anchors day ${payload.day}, not ${expected.day}`);
    if (payload.treeSize !== expected.treeSize) fail('tx_tree_size_mismatch', `transaction anchors a global tree of ${payload.treeSize} leaves, not ${expected.treeSize}`);
  }
  if (expected.signer && tx.from.toLowerCase() !== expected.signer.toLowerCase()) {
    fail('tx_signer_mismatch', `transaction was sent by ${tx.from.toLowerCase()}, not by the anchoring account ${expected.signer.toLowerCase()}`);
  }
  const receipt = observed.receipt;
  let confirmations = 0;
  if (!receipt) {
    fail('tx_not_mined', `transaction ${expected.txHash} is not mined yet`);
  } else {
    confirmations = Math.max(0, observed.latestBlock - receipt.blockNumber + 1);
    if (receipt.status !== 'success') fail('tx_reverted', `transaction ${expected.txHash} reverted`);
    if (expected.blockNumber != null && receipt.blockNumber !== expected.blockNumber) {
      fail('tx_block_mismatch', `transaction is in block ${receipt.blockNumber}, not ${expected.blockNumber}`);
    }
    const needed = expected.minConfirmations ?? 1;
    if (confirmations < needed) fail('too_few_confirmations', `transaction has ${confirmations} confirmation(s), fewer than ${needed}`);
  }
  return { ok: failures.length === 0, confirmations, failures };
}
