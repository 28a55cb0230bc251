/**
 * Per-event proofs, version 1 (docs/integrity.md, "Event proofs"): everything needed to
 * check one event alone against the root carried by a transaction, and the offline checks
 * that the API's proof, a bundle line and the CLI all share.
 */
import { anchorRecordHash, AnchorRecordError, type AnchorRecord } from './anchor.ts';
import { CanonicalJsonError } from './canonical.ts';
import { recomputeHashedEvent, type HashedEvent } from './hashed-event.ts';
import { fromHex } from './hex.ts';
import { hashLeaf, verifyInclusion, type MerkleProofFailure } from './merkle.ts';

export const EVENT_PROOF_VERSION = 1;

/** An RFC 9162 inclusion proof in JSON: audit path from the leaf's sibling upwards, hex. */
export interface InclusionProofJson {
  leaf_index: number;
  tree_size: number;
  path: string[];
}

/** An anchor as proofs carry it: the record, its hash (the global leaf input) and its id. */
export interface AnchorRef {
  id: string;
  record: AnchorRecord;
  hash: string;
}

/** The anchor hash's path to the day's global root, and that root. */
export interface GlobalProofJson extends InclusionProofJson {
  root: string;
}

export type AnchorStatus = 'pending' | 'submitted' | 'confirmed' | 'failed';

/** Where the global root went on chain. `tx_hash` is null until the transaction is signed. */
export interface AnchorTransactionRef {
  chain: string;
  chain_id: number;
  tx_hash: string | null;
  block_number: number | null;
  /** The anchoring account (sender of the transaction), 0x-prefixed lowercase. */
  signer: string | null;
  status: AnchorStatus;
  explorer_url: string | null;
}

/**
 * `GET /api/v1/events/{id}/proof`: one event, checkable alone. `event` is exactly the hashed
 * object of event hash v1, so `event_hash` = SHA-256 of its RFC 8785 form.
 */
export interface EventProof {
  v: typeof EVENT_PROOF_VERSION;
  event_hash: string;
  event: HashedEvent;
  inclusion: InclusionProofJson;
  anchor: AnchorRef;
  global: GlobalProofJson;
  transaction: AnchorTransactionRef;
}

/** Machine codes of failed proof checks (docs/integrity.md lists what each means). */
export type ProofFailureCode =
  | 'malformed'
  | 'hash_mismatch'
  | 'chain_break'
  | 'out_of_order'
  | 'missing_events'
  | 'wrong_workspace'
  | 'outside_period'
  | 'tree_size_mismatch'
  | 'inclusion_failed'
  | 'anchor_hash_mismatch'
  | 'global_inclusion_failed'
  | 'subtree_roots_mismatch'
  | 'previous_anchor_mismatch'
  | 'count_mismatch'
  | 'first_event_mismatch'
  | 'last_event_mismatch';

export interface ProofFailure {
  code: ProofFailureCode;
  message: string;
}

/** One event's verdict: valid when `failures` is empty. */
export interface EventVerdictBase {
  event_id: string | null;
  leaf_index: number | null;
  failures: ProofFailure[];
}

export function failure(code: ProofFailureCode, message: string): ProofFailure {
  return { code, message };
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** True when `value` is 64 lowercase hex characters. */
export function isHexHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_HASH.test(value);
}

/**
 * Recomputes the event hash from the hashed object; a `hash_mismatch` failure when it differs
 * from `eventHash`, a `malformed` one when the object is not exactly a hashed object.
 */
export function checkEventHash(event: unknown, eventHash: unknown): ProofFailure | null {
  const recomputed = recomputeHashedEvent(event);
  if (!recomputed.ok) {
    return recomputed.code === 'not_hashed_object'
      ? failure('malformed', recomputed.message)
      : failure('hash_mismatch', `event fields cannot be hashed (${recomputed.message}); stored event_hash ${String(eventHash)}`);
  }
  if (recomputed.hash === eventHash) return null;
  return failure('hash_mismatch', `event fields hash to ${recomputed.hash}, but the stored event_hash is ${String(eventHash)}: the event was changed after it was written`);
}

/** The event belongs to the anchor's workspace and day. */
export function checkEventInAnchor(event: Pick<HashedEvent, 'workspace_id' | 'created_at'>, record: AnchorRecord): ProofFailure[] {
  const out: ProofFailure[] = [];
  if (event.workspace_id !== record.workspace_id) {
    out.push(failure('wrong_workspace', `event belongs to workspace ${event.workspace_id}, the anchor to ${record.workspace_id}`));
  }
  if (!(typeof event.created_at === 'string' && event.created_at >= record.period_start && event.created_at < record.period_end)) {
    out.push(failure('outside_period', `event created_at ${String(event.created_at)} is outside the anchored day [${record.period_start}, ${record.period_end})`));
  }
  return out;
}

function decodePath(path: unknown): Uint8Array[] | string {
  if (!Array.isArray(path)) return 'path is not an array';
  const out: Uint8Array[] = [];
  for (let i = 0; i < path.length; i++) {
    if (!isHexHash(path[i])) return `path[${i}] is not 64 lowercase hex characters`;
    out.push(fromHex(path[i] as string));
  }
  return out;
}

/**
 * Verifies that `leafInputHex` (a 32-byte hash, hex) is leaf `proof.leaf_index` of the tree
 * of `proof.tree_size` leaves whose root is `rootHex`, per RFC 9162 §2.1.3.2. Returns null
 * when it is, else the Merkle failure (code and message).
 */
export function checkInclusion(leafInputHex: string, proof: InclusionProofJson, rootHex: string): MerkleProofFailure | null {
  if (!Number.isSafeInteger(proof.leaf_index) || !Number.isSafeInteger(proof.tree_size)) {
    return { ok: false, code: 'invalid_tree_size', message: 'leaf_index and tree_size must be integers' };
  }
  const path = decodePath(proof.path);
  if (typeof path === 'string') return { ok: false, code: 'invalid_hash_length', message: path };
  if (!isHexHash(leafInputHex) || !isHexHash(rootHex)) return { ok: false, code: 'invalid_hash_length', message: 'leaf and root must be 64 lowercase hex characters' };
  const result = verifyInclusion({
    leafHash: hashLeaf(fromHex(leafInputHex)),
    index: BigInt(proof.leaf_index),
    treeSize: BigInt(proof.tree_size),
    path,
    root: fromHex(rootHex),
  });
  return result.ok ? null : result;
}

/**
 * The event's inclusion in its anchor's workspace-day tree: the proof's tree size must be
 * the anchored events_count, and the path must lead from the stored event_hash to the
 * anchored merkle_root.
 */
export function checkEventInclusion(eventHash: string, inclusion: InclusionProofJson, record: AnchorRecord): ProofFailure | null {
  if (inclusion.tree_size !== record.events_count) {
    return failure('tree_size_mismatch', `proof is for a tree of ${inclusion.tree_size} events; the anchor covers ${record.events_count}`);
  }
  const bad = checkInclusion(eventHash, inclusion, record.merkle_root);
  return bad ? failure('inclusion_failed', `event is not leaf ${inclusion.leaf_index} of the anchored tree (${bad.code}): ${bad.message}`) : null;
}

/**
 * The anchor record hashes to the anchor hash, and the anchor hash's global path leads to
 * the global root. Returns the failures (empty when both hold).
 */
export function checkAnchorInGlobalTree(anchor: { record: AnchorRecord; hash: string }, global: GlobalProofJson): ProofFailure[] {
  const out: ProofFailure[] = [];
  let recomputed: string | null = null;
  try {
    recomputed = anchorRecordHash(anchor.record);
  } catch (e) {
    if (!(e instanceof AnchorRecordError || e instanceof CanonicalJsonError)) throw e;
    out.push(failure('anchor_hash_mismatch', e.message));
  }
  if (recomputed !== null && recomputed !== anchor.hash) {
    out.push(failure('anchor_hash_mismatch', `anchor record hashes to ${recomputed}, but the proof names anchor hash ${anchor.hash}: the record was changed`));
  }
  const bad = checkInclusion(recomputed ?? anchor.hash, global, global.root);
  if (bad) out.push(failure('global_inclusion_failed', `anchor is not leaf ${global.leaf_index} of the global tree with root ${global.root} (${bad.code}): ${bad.message}`));
  return out;
}

/**
 * Every offline check of a single-event proof: the event hash, the event's workspace and
 * day, its path to the workspace-day root, the anchor record's hash, and its path to the
 * global root. What remains is to read `proof.global.root` from the transaction itself
 * ({@link checkAnchorTransaction}).
 *
 * @example verifyEventProof(await (await fetch(`${api}/events/${id}/proof`)).json().data) // => [] when valid
 */
export function verifyEventProof(proof: EventProof): ProofFailure[] {
  if (!proof || typeof proof !== 'object' || !proof.event || !proof.inclusion || !proof.anchor || !proof.global) {
    return [failure('malformed', 'proof must have event_hash, event, inclusion, anchor and global members')];
  }
  if (proof.v !== EVENT_PROOF_VERSION) return [failure('malformed', `proof version ${String(proof.v)} is not supported (this verifier knows ${EVENT_PROOF_VERSION})`)];
  const out: ProofFailure[] = [];
  const hashProblem = checkEventHash(proof.event, proof.event_hash);
  if (hashProblem) out.push(hashProblem);
  out.push(...checkEventInAnchor(proof.event, proof.anchor.record));
  const inclusionProblem = checkEventInclusion(proof.event_hash, proof.inclusion, proof.anchor.record);
  if (inclusionProblem) out.push(inclusionProblem);
  out.push(...checkAnchorInGlobalTree(proof.anchor, proof.global));
  return out;
}
