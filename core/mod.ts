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
  acceptEvent, batchInputSchema, EVENT_LIMITS, eventInputSchema, fieldProblems, formatPath,
  type AcceptedEvent, type EventInput, type FieldProblem,
} from './event.ts';
