/**
 * Bundles: a workspace-day's anchor and every event with its proof, as JSON lines, and their
 * offline check. A front door of its own inside core, so that the verifier's worker threads load
 * just this (and the hashing and tree code it uses), not all of core with its schemas.
 */
export {
  BUNDLE_TYPE, BUNDLE_VERSION, BundleEventChecker, malformedBundleHeader, summarizeBundle, verifyBundle, verifyBundleHeader,
  type BundleEventLine, type BundleHeader, type BundleReport, type EventVerdict,
} from './checker.ts';
export { bundleEventLine, claimedLeafIndex, isPlainPath, lineScope, readIntactEventLine, type IntactEventLine } from './line.ts';
export { SUBTREE_SIZE } from '../merkle.ts';
