/**
 * Building the anchored trees (docs/integrity.md, "Anchoring"): a workspace-day tree over
 * event hashes, kept as one root per {@link SUBTREE_SIZE} leaves so that a later proof needs
 * only one run of stored event hashes, and the day's global tree over anchor hashes.
 */
import { fromHex, toHex } from './hex.ts';
import { hashChildren, hashLeaf, inclusionPathViaSubtrees, rootOfHashes, SUBTREE_SIZE } from './merkle.ts';
import type { GlobalProofJson, InclusionProofJson } from './anchor-proof.ts';

export interface DayTree {
  /** RFC 9162 root over all leaves (hex). */
  merkleRoot: string;
  /** Root of each run of SUBTREE_SIZE leaves, in order; the last run may be shorter. */
  subtreeRoots: Uint8Array[];
}

/**
 * The tree over one workspace-day's event hashes in chain order (leaf input = the 32 raw
 * bytes of each event_hash). Throws a RangeError for an empty day: there is nothing to anchor.
 *
 * @example buildDayTree(eventHashes).merkleRoot // => the anchor's merkle_root
 */
export function buildDayTree(eventHashes: readonly Uint8Array[]): DayTree {
  if (eventHashes.length === 0) throw new RangeError('a day tree needs at least one event');
  const subtreeRoots: Uint8Array[] = [];
  for (let start = 0; start < eventHashes.length; start += SUBTREE_SIZE) {
    const end = Math.min(start + SUBTREE_SIZE, eventHashes.length);
    const leaves: Uint8Array[] = new Array(end - start);
    for (let i = start; i < end; i++) leaves[i - start] = hashLeaf(eventHashes[i]!);
    subtreeRoots.push(rootOfHashes(leaves));
  }
  return { merkleRoot: toHex(rootOfHashes(subtreeRoots)), subtreeRoots };
}

/**
 * The inclusion proof of leaf `leafIndex` of a day tree, from the event hashes of its run
 * only (`runEventHashes`: the ≤256 event hashes of run floor(leafIndex / 256)) and the
 * stored subtree roots.
 *
 * @example eventInclusionProof(600, hashesOfRun2, subtreeRoots, 1000) // => { leaf_index: 600, tree_size: 1000, path }
 */
export function eventInclusionProof(leafIndex: number, runEventHashes: readonly Uint8Array[], subtreeRoots: readonly Uint8Array[], treeSize: number): InclusionProofJson {
  const run = Math.floor(leafIndex / SUBTREE_SIZE);
  const path = inclusionPathViaSubtrees(leafIndex, runEventHashes.map((h) => hashLeaf(h)), run, subtreeRoots);
  return { leaf_index: leafIndex, tree_size: treeSize, path: path.map(toHex) };
}

/**
 * Every level of the left-balanced tree over `leaves` (leaf hashes), as hex, bottom-up: the
 * RFC 9162 §2.1.1 tree built by carrying an odd last node up unchanged. Lets all audit paths
 * of a tree be read off in O(n log n) instead of O(n) hashes per path.
 */
export function treeLevels(leaves: readonly Uint8Array[]): string[][] {
  const levels: string[][] = [leaves.map(toHex)];
  let nodes = leaves;
  while (nodes.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < nodes.length; i += 2) next.push(hashChildren(nodes[i]!, nodes[i + 1]!));
    if (nodes.length % 2 === 1) next.push(nodes[nodes.length - 1]!);
    levels.push(next.map(toHex));
    nodes = next;
  }
  return levels;
}

/** The audit path of leaf `index` read off {@link treeLevels} (same siblings as inclusionPath). */
export function pathFromLevels(levels: readonly string[][], index: number): string[] {
  const path: string[] = [];
  for (let l = 0, i = index; l < levels.length - 1; l++, i >>>= 1) {
    // No sibling means the node is the odd last one, carried up unchanged.
    if ((i ^ 1) < levels[l]!.length) path.push(levels[l]![i ^ 1]!);
  }
  return path;
}

/**
 * The inclusion proofs of every leaf of run `run` of a day tree, from that run's event hashes
 * and the stored subtree roots: what a bundle streams, a run at a time.
 *
 * @example runInclusionProofs(2, hashesOfRun2, subtreeRoots, 1000)[0] // => proof of leaf 512
 */
export function runInclusionProofs(run: number, runEventHashes: readonly Uint8Array[], subtreeRoots: readonly Uint8Array[], treeSize: number): InclusionProofJson[] {
  const levels = treeLevels(runEventHashes.map((h) => hashLeaf(h)));
  const upper = pathFromLevels(treeLevels(subtreeRoots), run);
  return runEventHashes.map((_, j) => ({ leaf_index: run * SUBTREE_SIZE + j, tree_size: treeSize, path: [...pathFromLevels(levels, j), ...upper] }));
}

/** The day's global tree over anchor hashes (hex), in the given (workspace id) order. */
export interface GlobalTree {
  root: string;
  /** The proof of the anchor at each index. */
  proofs: GlobalProofJson[];
}

/**
 * Builds the global tree and every anchor's path to its root.
 *
 * @example buildGlobalTree([hashA, hashB]).proofs[1] // => { leaf_index: 1, tree_size: 2, path: [leafHashA], root }
 */
export function buildGlobalTree(anchorHashes: readonly string[]): GlobalTree {
  if (anchorHashes.length === 0) throw new RangeError('a global tree needs at least one anchor');
  const levels = treeLevels(anchorHashes.map((h) => hashLeaf(fromHex(h))));
  const root = levels[levels.length - 1]![0]!;
  const proofs = anchorHashes.map((_, index) => ({ leaf_index: index, tree_size: anchorHashes.length, path: pathFromLevels(levels, index), root }));
  return { root, proofs };
}

/** Concatenated 32-byte roots, as stored in one bytea column. */
export function packHashes(hashes: readonly Uint8Array[]): Buffer {
  return Buffer.concat(hashes.map((h) => Buffer.from(h.buffer, h.byteOffset, h.byteLength)));
}

/** The inverse of {@link packHashes}. */
export function unpackHashes(packed: Uint8Array): Uint8Array[] {
  if (packed.length % 32 !== 0) throw new RangeError(`packed hashes are ${packed.length} bytes, not a multiple of 32`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < packed.length; i += 32) out.push(packed.subarray(i, i + 32));
  return out;
}
