/**
 * Merkle tree hashing, inclusion and consistency proofs per RFC 9162 §2.1 (the
 * Certificate Transparency v2 tree, identical to RFC 6962's), over SHA-256.
 *
 * Functions that take `nodes` accept either leaf hashes or the roots of complete,
 * equally sized, left-aligned subtrees: the tree above such roots is the same
 * left-balanced tree, which is what lets the service store one root per 256 leaves
 * and answer proofs without loading every leaf of a day.
 */
import { createHash, hash } from 'node:crypto';

/** Leaves per stored subtree; must stay a power of two for the subtree identity to hold. */
export const SUBTREE_SIZE = 256;

const HASH_LENGTH = 32;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// Reused input buffers: a day of 1M events means ~2M hashes, so nothing is allocated per node.
const leafInput = Buffer.alloc(1 + HASH_LENGTH);
leafInput[0] = LEAF_PREFIX;
const nodeInput = Buffer.alloc(1 + 2 * HASH_LENGTH);
nodeInput[0] = NODE_PREFIX;

/**
 * SHA-256 as a latin1 string (one char per byte). For 33–65-byte inputs the cost of
 * `hash(…, 'buffer')` is dominated by allocating a fresh ArrayBuffer per call; the
 * string form plus a pooled `Buffer.from` or an in-place write is about twice as fast.
 */
function sha256Latin1(input: Uint8Array): string {
  return hash('sha256', input, 'binary');
}

function digest(input: Uint8Array): Uint8Array {
  return Buffer.from(sha256Latin1(input), 'latin1');
}

/**
 * Leaf hash, RFC 9162 §2.1.1: SHA-256(0x00 ‖ data). For a Sealtrail event, `data` is
 * the 32 raw bytes of its event_hash.
 *
 * @example toHex(hashLeaf(new Uint8Array())) // => '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
 */
export function hashLeaf(data: Uint8Array): Uint8Array {
  if (data.length === HASH_LENGTH) {
    leafInput.set(data, 1);
    return digest(leafInput);
  }
  const input = Buffer.allocUnsafe(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return digest(input);
}

/**
 * Interior node hash, RFC 9162 §2.1.1: SHA-256(0x01 ‖ left ‖ right). The different
 * prefixes keep a leaf from ever being passed off as an interior node.
 *
 * @example hashChildren(hashLeaf(a), hashLeaf(b)) // => root of the two-leaf tree [a, b]
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_LENGTH && right.length === HASH_LENGTH) {
    nodeInput.set(left, 1);
    nodeInput.set(right, 1 + HASH_LENGTH);
    return digest(nodeInput);
  }
  return createHash('sha256').update(nodeInput.subarray(0, 1)).update(left).update(right).digest();
}

/** Copies the nodes into one contiguous buffer, so a level is one allocation, not n. */
function packLevel(nodes: readonly Uint8Array[]): Buffer {
  const packed = Buffer.allocUnsafe(nodes.length * HASH_LENGTH);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.length !== HASH_LENGTH) throw new RangeError(`node ${i} is ${node.length} bytes; tree nodes must be ${HASH_LENGTH}-byte hashes`);
    packed.set(node, i * HASH_LENGTH);
  }
  return packed;
}

/**
 * One step of the bottom-up build: hashes adjacent pairs of the `width` packed nodes of
 * `from` into `to` (which may be `from` itself: node i is written only after pair i is
 * read) and carries an odd last node up unchanged. Returns the new width.
 */
function reduceLevel(from: Buffer, width: number, to: Buffer): number {
  const half = width >>> 1;
  for (let i = 0; i < half; i++) {
    from.copy(nodeInput, 1, 2 * HASH_LENGTH * i, 2 * HASH_LENGTH * (i + 1));
    to.write(sha256Latin1(nodeInput), HASH_LENGTH * i, HASH_LENGTH, 'latin1');
  }
  if ((width & 1) === 0) return half;
  from.copy(to, HASH_LENGTH * half, HASH_LENGTH * (width - 1), HASH_LENGTH * width);
  return half + 1;
}

/**
 * Leaf hashes (RFC 9162 §2.1.1) of 32-byte values given as 64 lowercase hex digits each (event
 * hashes as bundles carry them), packed 32 bytes a leaf. The hex is trusted to be well-formed.
 */
export function packedLeafHashes(hexValues: readonly string[]): Buffer {
  const packed = Buffer.allocUnsafe(hexValues.length * HASH_LENGTH);
  for (let i = 0; i < hexValues.length; i++) {
    leafInput.write(hexValues[i]!, 1, HASH_LENGTH, 'hex');
    packed.write(sha256Latin1(leafInput), i * HASH_LENGTH, HASH_LENGTH, 'latin1');
  }
  return packed;
}

/**
 * Every level of the tree over packed nodes (32 bytes each), bottom-up and packed the same way:
 * `levels[0]` is `nodes`, the last level holds the root alone. An odd last node is carried up
 * unchanged, which yields RFC 9162's left-balanced tree.
 */
export function packedTreeLevels(nodes: Buffer): Buffer[] {
  const levels = [nodes];
  let width = nodes.length / HASH_LENGTH;
  while (width > 1) {
    const next = Buffer.allocUnsafe(Math.ceil(width / 2) * HASH_LENGTH);
    width = reduceLevel(levels[levels.length - 1]!, width, next);
    levels.push(next);
  }
  return levels;
}

function nodeAt(level: Buffer, index: number): Uint8Array {
  return Buffer.from(level.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH));
}

/**
 * Merkle Tree Hash (MTH, RFC 9162 §2.1.1) of already-hashed 32-byte nodes: leaf hashes,
 * or the roots of complete subtrees of equal size in order (the last may be partial).
 * Built bottom-up in O(n) by carrying an odd last node up a level unchanged, which
 * yields the RFC's left-balanced tree. The empty tree's hash is SHA-256 of the empty
 * string. Throws a RangeError if a node is not 32 bytes.
 *
 * @example toHex(rootOfHashes([])) // => 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 */
export function rootOfHashes(nodes: readonly Uint8Array[]): Uint8Array {
  if (nodes.length === 0) return hash('sha256', new Uint8Array(0), 'buffer');
  const level = packLevel(nodes);
  let width = nodes.length;
  while (width > 1) width = reduceLevel(level, width, level);
  return nodeAt(level, 0);
}

function checkIndex(index: number, size: number, what: string): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`${what} ${index} is out of range for ${size} node(s)`);
  }
}

/**
 * Audit path for the node at `index`, RFC 9162 §2.1.3.1, ordered from the leaf's
 * sibling up to the child of the root (the order §2.1.3.2 verification consumes).
 * Computed level by level in O(n); the sibling set equals the RFC's recursive PATH.
 * Same input convention as {@link rootOfHashes}; throws a RangeError if `index` is not
 * in `[0, nodes.length)`.
 *
 * @example inclusionPath(2, leafHashes).map(toHex) // => [sibling of leaf 2, …, top sibling]
 */
export function inclusionPath(index: number, nodes: readonly Uint8Array[]): Uint8Array[] {
  checkIndex(index, nodes.length, 'leaf index');
  const level = packLevel(nodes);
  const path: Uint8Array[] = [];
  let width = nodes.length;
  let i = index;
  while (width > 1) {
    const sibling = i ^ 1;
    // No sibling means this node is the odd last one, carried up without hashing.
    if (sibling < width) path.push(nodeAt(level, sibling));
    width = reduceLevel(level, width, level);
    i >>>= 1;
  }
  return path;
}

/**
 * Inclusion path of leaf `index` in a tree stored as {@link SUBTREE_SIZE}-leaf chunks:
 * the path inside its chunk followed by the path of the chunk's root among all chunk
 * roots. This equals `inclusionPath(index, allLeaves)` because every chunk but the last
 * is a complete, aligned subtree. `chunkLeaves` are the leaf hashes of chunk
 * `chunkIndex`, which must be `floor(index / SUBTREE_SIZE)`.
 *
 * @example inclusionPathViaSubtrees(600, leavesOfChunk2, 2, chunkRoots) // same as inclusionPath(600, allLeaves)
 */
export function inclusionPathViaSubtrees(
  index: number,
  chunkLeaves: readonly Uint8Array[],
  chunkIndex: number,
  chunkRoots: readonly Uint8Array[],
): Uint8Array[] {
  checkIndex(chunkIndex, chunkRoots.length, 'chunk index');
  if (!Number.isSafeInteger(index) || Math.floor(index / SUBTREE_SIZE) !== chunkIndex) {
    throw new RangeError(`leaf index ${index} is not in chunk ${chunkIndex} (chunks hold ${SUBTREE_SIZE} leaves)`);
  }
  const isLastChunk = chunkIndex === chunkRoots.length - 1;
  if (chunkLeaves.length > SUBTREE_SIZE || (!isLastChunk && chunkLeaves.length !== SUBTREE_SIZE)) {
    throw new RangeError(
      `chunk ${chunkIndex} has ${chunkLeaves.length} leaves; every chunk but the last must have exactly ${SUBTREE_SIZE}`,
    );
  }
  return [...inclusionPath(index % SUBTREE_SIZE, chunkLeaves), ...inclusionPath(chunkIndex, chunkRoots)];
}

/**
 * Consistency proof between the tree of the first `oldSize` nodes and the tree of all
 * `nodes`, RFC 9162 §2.1.4.1 (PROOF(m, D[n]) = SUBPROOF(m, D[n], true)). Empty when
 * `oldSize` is 0 or equals `nodes.length`. Throws a RangeError for other sizes outside
 * `[0, nodes.length]`.
 *
 * @example consistencyPath(6, leafHashesOf8).length // => 3
 */
export function consistencyPath(oldSize: number, nodes: readonly Uint8Array[]): Uint8Array[] {
  const n = nodes.length;
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > n) {
    throw new RangeError(`old tree size ${oldSize} is out of range for ${n} node(s)`);
  }
  if (oldSize === 0 || oldSize === n) return [];
  const levels = [packLevel(nodes)];
  for (let width = n; width > 1;) {
    const next = Buffer.allocUnsafe(Math.ceil(width / 2) * HASH_LENGTH);
    width = reduceLevel(levels[levels.length - 1]!, width, next);
    levels.push(next);
  }
  // Every range SUBPROOF visits starts at a multiple of 2^h and ends at start + 2^h or
  // at n, so its MTH is a node of the bottom-up build: levels[h][start >> h].
  const mth = (start: number, end: number): Uint8Array => {
    let height = 0;
    while (2 ** height < end - start) height++;
    return nodeAt(levels[height]!, Math.floor(start / 2 ** height));
  };
  const proof: Uint8Array[] = [];
  const subproof = (m: number, start: number, end: number, completeSubtree: boolean): void => {
    const size = end - start;
    if (m === size) {
      if (!completeSubtree) proof.push(mth(start, end));
      return;
    }
    const k = largestPowerOfTwoBelow(size);
    if (m <= k) {
      subproof(m, start, start + k, completeSubtree);
      proof.push(mth(start + k, end));
    } else {
      subproof(m - k, start + k, end, false);
      proof.push(mth(start, start + k));
    }
  };
  subproof(oldSize, 0, n, true);
  return proof;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Machine codes of a failed proof verification. */
export type MerkleProofErrorCode =
  | 'index_out_of_range'
  | 'invalid_tree_size'
  | 'invalid_hash_length'
  | 'path_too_long'
  | 'path_too_short'
  | 'root_mismatch'
  | 'sizes_out_of_order'
  | 'empty_path'
  | 'unexpected_path'
  | 'old_root_mismatch'
  | 'new_root_mismatch';

export type MerkleProofFailure = { ok: false; code: MerkleProofErrorCode; message: string };

function fail(code: MerkleProofErrorCode, message: string): MerkleProofFailure {
  return { ok: false, code, message };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function checkHashLengths(named: Record<string, Uint8Array>, path: readonly Uint8Array[]): MerkleProofFailure | null {
  for (const [name, value] of Object.entries(named)) {
    if (value.length !== HASH_LENGTH) return fail('invalid_hash_length', `${name} is ${value.length} bytes, expected ${HASH_LENGTH}`);
  }
  for (let i = 0; i < path.length; i++) {
    if (path[i]!.length !== HASH_LENGTH) return fail('invalid_hash_length', `path[${i}] is ${path[i]!.length} bytes, expected ${HASH_LENGTH}`);
  }
  return null;
}

export interface InclusionProofInput {
  leafHash: Uint8Array;
  index: bigint;
  treeSize: bigint;
  path: readonly Uint8Array[];
}

/**
 * Root implied by an inclusion proof, RFC 9162 §2.1.3.2 steps 1–5 minus the final root
 * comparison, so callers can report the expected and the computed root side by side.
 * Fails with `index_out_of_range`, `invalid_tree_size`, `invalid_hash_length`,
 * `path_too_long` or `path_too_short`.
 *
 * @example rootFromInclusion({ leafHash, index: 5n, treeSize: 8n, path }) // => { ok: true, root }
 */
export function rootFromInclusion(
  { leafHash, index, treeSize, path }: InclusionProofInput,
): { ok: true; root: Uint8Array } | MerkleProofFailure {
  if (treeSize < 0n) return fail('invalid_tree_size', `tree size ${treeSize} is negative`);
  // Step 1.
  if (index < 0n || index >= treeSize) {
    return fail('index_out_of_range', `leaf index ${index} is out of range for a tree of size ${treeSize}`);
  }
  const malformed = checkHashLengths({ leafHash }, path);
  if (malformed) return malformed;
  // Step 2.
  let fn = index;
  let sn = treeSize - 1n;
  // Step 3.
  let r = leafHash;
  // Step 4.
  for (const p of path) {
    if (sn === 0n) {
      return fail('path_too_long', `inclusion path has ${path.length} hashes, more than a tree of size ${treeSize} needs for leaf ${index}`);
    }
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 5, first half.
  if (sn !== 0n) {
    return fail('path_too_short', `inclusion path has ${path.length} hashes, fewer than a tree of size ${treeSize} needs for leaf ${index}`);
  }
  return { ok: true, root: r };
}

/**
 * Verify an RFC 9162 §2.1.3.2 inclusion proof: that `leafHash` is leaf `index` of the
 * tree of size `treeSize` whose root is `root`. Never throws on bad proofs; failures
 * carry a machine `code` (`index_out_of_range`, `path_too_long`, `path_too_short`,
 * `root_mismatch`, `invalid_hash_length`, `invalid_tree_size`) and a message.
 *
 * @example verifyInclusion({ leafHash, index: 0n, treeSize: 1n, path: [], root: leafHash }) // => { ok: true }
 */
export function verifyInclusion(
  input: InclusionProofInput & { root: Uint8Array },
): { ok: true } | MerkleProofFailure {
  const computed = rootFromInclusion(input);
  if (!computed.ok) return computed;
  if (input.root.length !== HASH_LENGTH) {
    return fail('invalid_hash_length', `root is ${input.root.length} bytes, expected ${HASH_LENGTH}`);
  }
  // Step 5, second half.
  if (!bytesEqual(computed.root, input.root)) {
    return fail('root_mismatch', `inclusion proof leads to root ${hex(computed.root)}, expected ${hex(input.root)}`);
  }
  return { ok: true };
}

/**
 * Verify an RFC 9162 §2.1.4.2 consistency proof: that the tree of size `oldSize` with
 * root `oldRoot` is a prefix of the tree of size `newSize` with root `newRoot`. Equal
 * sizes need equal roots and an empty path; an old size of 0 is consistent with
 * anything given an empty path. Failure codes: `sizes_out_of_order`, `empty_path`,
 * `unexpected_path`, `path_too_long`, `path_too_short`, `old_root_mismatch`,
 * `new_root_mismatch`, `invalid_hash_length`, `invalid_tree_size`.
 *
 * @example verifyConsistency({ oldSize: 6n, newSize: 8n, oldRoot, newRoot, path }) // => { ok: true }
 */
export function verifyConsistency({ oldSize, newSize, oldRoot, newRoot, path }: {
  oldSize: bigint;
  newSize: bigint;
  oldRoot: Uint8Array;
  newRoot: Uint8Array;
  path: readonly Uint8Array[];
}): { ok: true } | MerkleProofFailure {
  if (oldSize < 0n || newSize < 0n) return fail('invalid_tree_size', `tree sizes must not be negative (got ${oldSize} and ${newSize})`);
  if (oldSize > newSize) return fail('sizes_out_of_order', `old tree size ${oldSize} is larger than new tree size ${newSize}`);
  const malformed = checkHashLengths({ oldRoot, newRoot }, path);
  if (malformed) return malformed;
  if (oldSize === 0n || oldSize === newSize) {
    if (path.length !== 0) return fail('unexpected_path', `a consistency proof from size ${oldSize} to ${newSize} must be empty, got ${path.length} hashes`);
    if (oldSize === newSize && !bytesEqual(oldRoot, newRoot)) {
      return fail('root_mismatch', `trees of equal size ${oldSize} have different roots ${hex(oldRoot)} and ${hex(newRoot)}`);
    }
    return { ok: true };
  }
  // Step 1.
  if (path.length === 0) return fail('empty_path', `consistency proof from size ${oldSize} to ${newSize} is empty`);
  // Step 2.
  const proof = isPowerOfTwo(oldSize) ? [oldRoot, ...path] : path;
  // Step 3.
  let fn = oldSize - 1n;
  let sn = newSize - 1n;
  // Step 4.
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 5.
  let fr = proof[0]!;
  let sr = proof[0]!;
  // Step 6.
  for (let i = 1; i < proof.length; i++) {
    const c = proof[i]!;
    if (sn === 0n) {
      return fail('path_too_long', `consistency proof has ${path.length} hashes, more than sizes ${oldSize} → ${newSize} need`);
    }
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 7.
  if (sn !== 0n) {
    return fail('path_too_short', `consistency proof has ${path.length} hashes, fewer than sizes ${oldSize} → ${newSize} need`);
  }
  if (!bytesEqual(fr, oldRoot)) {
    return fail('old_root_mismatch', `consistency proof leads to old root ${hex(fr)}, expected ${hex(oldRoot)}`);
  }
  if (!bytesEqual(sr, newRoot)) {
    return fail('new_root_mismatch', `consistency proof leads to new root ${hex(sr)}, expected ${hex(newRoot)}`);
  }
  return { ok: true };
}

function isPowerOfTwo(n: bigint): boolean {
  return n > 0n && (n & (n - 1n)) === 0n;
}
