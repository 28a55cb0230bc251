/**
 * Pure domain logic: the event schema, canonical encoding, chain hashing, Merkle trees and
 * proofs. Nothing here performs I/O, so the server, the CLI and third-party verifiers share it.
 */
export { canonicalJson, CanonicalJsonError, type CanonicalJsonErrorCode } from './canonical.ts';
export { computeEventHash, EVENT_HASH_VERSION, EventHashError, eventHashPreimage, type ChainedEventFields, type EventHashErrorCode, type Target } from './event-hash.ts';
export { ChainVerifier, type ChainBreak, type StoredChainedEvent } from './verify-chain.ts';
export {
  consistencyPath, hashChildren, hashLeaf, inclusionPath, inclusionPathViaSubtrees, rootFromInclusion, rootOfHashes,
  SUBTREE_SIZE, verifyConsistency, verifyInclusion,
  type InclusionProofInput, type MerkleProofErrorCode, type MerkleProofFailure,
} from './merkle.ts';
export { fromHex, HexError, sha256, toHex } from './hex.ts';
export { formatTimestamp, normalizeTimestamp, nowMicros, parseTimestamp } from './time.ts';
export {
  acceptEvent, batchInputSchema, EVENT_LIMITS, eventInputSchema, fieldProblems, formatPath, REPORT_INPUT,
  type AcceptedEvent, type EventInput, type FieldProblem,
} from './event.ts';
export {
  ANCHOR_RECORD_VERSION, AnchorRecordError, anchorRecordHash, dayOfEpochDay, dayPeriod, pickAnchorRecord,
  type AnchorRecord,
} from './anchor.ts';
export {
  ANCHOR_PAYLOAD_LENGTH, ANCHOR_PAYLOAD_MAGIC, ANCHOR_PAYLOAD_VERSION, decodeAnchorPayload, encodeAnchorPayload, type AnchorPayload,
} from './anchor-payload.ts';
export {
  checkAnchorInGlobalTree, checkEventHash, checkEventInAnchor, checkEventInclusion, checkInclusion, EVENT_PROOF_VERSION, verifyEventProof,
  type AnchorRef, type AnchorStatus, type AnchorTransactionRef, type EventProof, type GlobalProofJson, type InclusionProofJson,
  type ProofFailure, type ProofFailureCode,
} from './anchor-proof.ts';
export {
  checkAnchorTransaction, type ExpectedAnchorTransaction, type ObservedAnchorTransaction, type TransactionFailure,
  type TransactionFailureCode, type TransactionVerdict,
} from './anchor-transaction.ts';
export {
  BUNDLE_TYPE, BUNDLE_VERSION, BundleEventChecker, bundleEventLine, isPlainPath, readIntactEventLine, summarizeBundle, verifyBundle,
  verifyBundleHeader, type BundleEventLine, type BundleHeader, type BundleReport, type EventVerdict, type IntactEventLine,
} from './bundle/mod.ts';
export {
  buildDayTree, buildGlobalTree, eventInclusionProof, packHashes, pathFromLevels, runInclusionProofs, treeLevels, unpackHashes,
  type DayTree, type GlobalTree,
} from './anchor-tree.ts';
export { isCanonicalJsonBytes } from './canonical-bytes.ts';
export { HASHED_EVENT_KEYS, hashedEventOf, recomputeHashedEvent, type HashedEvent, type HashedEventProblem } from './hashed-event.ts';
