import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  consistencyPath,
  hashChildren,
  hashLeaf,
  inclusionPath,
  inclusionPathViaSubtrees,
  rootFromInclusion,
  rootOfHashes,
  SUBTREE_SIZE,
  verifyConsistency,
  verifyInclusion,
} from '../../core/merkle.ts';
import { fromHex, HexError, sha256, toHex } from '../../core/hex.ts';

interface MerkleVectors {
  empty_root: string;
  leaves: string[];
  leaf_hashes: string[];
  roots: Array<{ tree_size: number; root: string }>;
  inclusion_proofs: Array<{ leaf_index: number; tree_size: number; path: string[] }>;
  consistency_proofs: Array<{ old_size: number; new_size: number; path: string[] }>;
}

const ref = JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/merkle-rfc9162.json'), 'utf8')) as MerkleVectors;
const refLeaves = ref.leaves.map((hex) => hashLeaf(fromHex(hex)));
const rootOfSize = (size: number): Uint8Array => fromHex(ref.roots[size - 1]!.root);

// Straight transcriptions of the RFC 9162 §2.1 recursive definitions, used as an oracle
// for the O(n) bottom-up implementations under test.
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function mthRecursive(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256(new Uint8Array());
  if (d.length === 1) return d[0]!;
  const k = largestPowerOfTwoBelow(d.length);
  return hashChildren(mthRecursive(d.slice(0, k)), mthRecursive(d.slice(k)));
}
function pathRecursive(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = largestPowerOfTwoBelow(d.length);
  return m < k
    ? [...pathRecursive(m, d.slice(0, k)), mthRecursive(d.slice(k))]
    : [...pathRecursive(m - k, d.slice(k)), mthRecursive(d.slice(0, k))];
}
function subproofRecursive(m: number, d: readonly Uint8Array[], complete: boolean): Uint8Array[] {
  if (m === d.length) return complete ? [] : [mthRecursive(d)];
  const k = largestPowerOfTwoBelow(d.length);
  return m <= k
    ? [...subproofRecursive(m, d.slice(0, k), complete), mthRecursive(d.slice(k))]
    : [...subproofRecursive(m - k, d.slice(k), false), mthRecursive(d.slice(0, k))];
}

function syntheticLeaves(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => hashLeaf(sha256(`event ${i}`)));
}
const hexes = (list: readonly Uint8Array[]): string[] => list.map(toHex);

function flipBit(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[0]! ^= 0x10;
  return copy;
}

describe('hex helpers', () => {
  it('round-trips bytes through lowercase hex', () => {
    const bytes = Uint8Array.from([0, 1, 171, 255]);
    expect(toHex(bytes)).toBe('0001abff');
    expect(Array.from(fromHex('0001abff'))).toEqual([0, 1, 171, 255]);
    expect(fromHex('').length).toBe(0);
  });

  it('rejects malformed hex instead of silently truncating it', () => {
    for (const bad of ['abc', 'zz', '0g', 'AB', ' 00', '00 ']) {
      expect(() => fromHex(bad)).toThrow(HexError);
    }
    expect(() => fromHex('abc')).toThrow(/odd length/);
    expect(() => fromHex('00AB')).toThrow(/offset 2/);
  });

  it('hashes strings as UTF-8', () => {
    expect(toHex(sha256(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(sha256('é'))).toBe(toHex(sha256(Uint8Array.from([0xc3, 0xa9]))));
  });
});

describe('RFC 9162 reference tree (transparency-dev test data)', () => {
  it('hashes the reference leaves with the 0x00 prefix', () => {
    expect(hexes(refLeaves)).toEqual(ref.leaf_hashes);
  });

  it('gives SHA-256("") for the empty tree', () => {
    expect(toHex(rootOfHashes([]))).toBe(ref.empty_root);
  });

  it('reproduces the published root of every prefix size 1..8', () => {
    for (const { tree_size, root } of ref.roots) expect(toHex(rootOfHashes(refLeaves.slice(0, tree_size)))).toBe(root);
  });

  it('reproduces and verifies the published inclusion proofs', () => {
    for (const { leaf_index, tree_size, path } of ref.inclusion_proofs) {
      const leaves = refLeaves.slice(0, tree_size);
      expect(hexes(inclusionPath(leaf_index, leaves))).toEqual(path);
      const result = verifyInclusion({
        leafHash: refLeaves[leaf_index]!,
        index: BigInt(leaf_index),
        treeSize: BigInt(tree_size),
        path: path.map(fromHex),
        root: rootOfSize(tree_size),
      });
      expect(result).toEqual({ ok: true });
    }
  });

  it('reproduces and verifies the published consistency proofs', () => {
    for (const { old_size, new_size, path } of ref.consistency_proofs) {
      expect(hexes(consistencyPath(old_size, refLeaves.slice(0, new_size)))).toEqual(path);
      const result = verifyConsistency({
        oldSize: BigInt(old_size),
        newSize: BigInt(new_size),
        oldRoot: rootOfSize(old_size),
        newRoot: rootOfSize(new_size),
        path: path.map(fromHex),
      });
      expect(result).toEqual({ ok: true });
    }
  });
});

describe('agreement with the recursive RFC definitions', () => {
  const leaves = syntheticLeaves(70);

  it('builds the same root as MTH for every size 0..70', () => {
    for (let n = 0; n <= leaves.length; n++) expect(toHex(rootOfHashes(leaves.slice(0, n)))).toBe(toHex(mthRecursive(leaves.slice(0, n))));
  });

  it('builds the same audit path as PATH, which verifies, for every leaf of every size up to 33', () => {
    for (let n = 1; n <= 33; n++) {
      const tree = leaves.slice(0, n);
      const root = rootOfHashes(tree);
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(m, tree);
        expect(hexes(path)).toEqual(hexes(pathRecursive(m, tree)));
        expect(verifyInclusion({ leafHash: tree[m]!, index: BigInt(m), treeSize: BigInt(n), path, root })).toEqual({ ok: true });
      }
    }
  });

  it('builds the same consistency proof as PROOF, which verifies, for every pair of sizes up to 33', () => {
    for (let n = 1; n <= 33; n++) {
      const tree = leaves.slice(0, n);
      const newRoot = rootOfHashes(tree);
      for (let m = 1; m <= n; m++) {
        const path = consistencyPath(m, tree);
        expect(hexes(path)).toEqual(hexes(subproofRecursive(m, tree, true)));
        const result = verifyConsistency({ oldSize: BigInt(m), newSize: BigInt(n), oldRoot: rootOfHashes(tree.slice(0, m)), newRoot, path });
        expect(result).toEqual({ ok: true });
      }
    }
  });

  it('hashes interior nodes of any length as SHA-256(0x01 ‖ left ‖ right)', () => {
    const left = Uint8Array.from([1, 2, 3]);
    const right = Uint8Array.from([4]);
    const expected = createHash('sha256').update(Uint8Array.from([1, 1, 2, 3, 4])).digest('hex');
    expect(toHex(hashChildren(left, right))).toBe(expected);
  });
});

describe('256-leaf subtrees (how the service stores a day)', () => {
  const chunk = (leaves: readonly Uint8Array[]): Uint8Array[][] => {
    const chunks: Uint8Array[][] = [];
    for (let i = 0; i < leaves.length; i += SUBTREE_SIZE) chunks.push(leaves.slice(i, i + SUBTREE_SIZE));
    return chunks;
  };
  const sizes = [1, 255, 256, 257, 512, 513, 3 * 256 + 17, 5 * 256];
  const all = syntheticLeaves(Math.max(...sizes));

  it('uses 256-leaf subtrees', () => {
    expect(SUBTREE_SIZE).toBe(256);
  });

  it('gives the same root from the chunk roots as from all leaves', () => {
    for (const n of sizes) {
      const leaves = all.slice(0, n);
      const chunkRoots = chunk(leaves).map(rootOfHashes);
      expect(toHex(rootOfHashes(chunkRoots))).toBe(toHex(rootOfHashes(leaves)));
    }
  });

  it('gives the same inclusion path via the chunk as from all leaves', () => {
    for (const n of sizes) {
      const leaves = all.slice(0, n);
      const chunks = chunk(leaves);
      const chunkRoots = chunks.map(rootOfHashes);
      const root = rootOfHashes(chunkRoots);
      const probes = n <= 300 ? Array.from({ length: n }, (_, i) => i) : [0, 1, 255, 256, 257, n - 18, n - 2, n - 1];
      for (const i of probes) {
        const chunkIndex = Math.floor(i / SUBTREE_SIZE);
        const viaChunks = inclusionPathViaSubtrees(i, chunks[chunkIndex]!, chunkIndex, chunkRoots);
        expect(hexes(viaChunks)).toEqual(hexes(inclusionPath(i, leaves)));
        expect(hexes(viaChunks)).toEqual([...hexes(inclusionPath(i % SUBTREE_SIZE, chunks[chunkIndex]!)), ...hexes(inclusionPath(chunkIndex, chunkRoots))]);
        expect(verifyInclusion({ leafHash: leaves[i]!, index: BigInt(i), treeSize: BigInt(n), path: viaChunks, root })).toEqual({ ok: true });
      }
    }
  });

  it('refuses a leaf index that is not in the given chunk, or a short chunk that is not the last', () => {
    const leaves = all.slice(0, 600);
    const chunks = chunk(leaves);
    const chunkRoots = chunks.map(rootOfHashes);
    expect(() => inclusionPathViaSubtrees(300, chunks[0]!, 0, chunkRoots)).toThrow(RangeError);
    expect(() => inclusionPathViaSubtrees(10, chunks[0]!.slice(0, 100), 0, chunkRoots)).toThrow(/exactly 256/);
    expect(() => inclusionPathViaSubtrees(600, chunks[2]!, 3, chunkRoots)).toThrow(RangeError);
  });
});

describe('inclusion proof failures', () => {
  const leaves = refLeaves;
  const root = rootOfSize(8);
  const index = 5;
  const path = inclusionPath(index, leaves);
  const good = { leafHash: leaves[index]!, index: BigInt(index), treeSize: 8n, path, root };

  it('refuses a leaf index at or beyond the tree size', () => {
    expect(verifyInclusion({ ...good, index: 8n })).toMatchObject({ ok: false, code: 'index_out_of_range' });
    expect(verifyInclusion({ ...good, index: 2n ** 70n })).toMatchObject({ ok: false, code: 'index_out_of_range' });
    expect(verifyInclusion({ ...good, index: -1n })).toMatchObject({ ok: false, code: 'index_out_of_range' });
    expect(verifyInclusion({ ...good, treeSize: 0n, index: 0n })).toMatchObject({ ok: false, code: 'index_out_of_range' });
    expect(() => inclusionPath(8, leaves)).toThrow(RangeError);
    expect(() => inclusionPath(-1, leaves)).toThrow(RangeError);
  });

  it('refuses a path with an extra hash appended or prepended', () => {
    expect(verifyInclusion({ ...good, path: [...path, root] })).toMatchObject({ ok: false, code: 'path_too_long' });
    const prepended = verifyInclusion({ ...good, path: [root, ...path] });
    expect(prepended.ok).toBe(false);
  });

  it('refuses a path with a hash missing', () => {
    expect(verifyInclusion({ ...good, path: path.slice(0, -1) })).toMatchObject({ ok: false, code: 'path_too_short' });
    expect(verifyInclusion({ ...good, path: [] })).toMatchObject({ ok: false, code: 'path_too_short' });
  });

  it('refuses a forged path (one bit flipped in any sibling)', () => {
    for (let i = 0; i < path.length; i++) {
      const forged = path.map((p, j) => (j === i ? flipBit(p) : p));
      expect(verifyInclusion({ ...good, path: forged })).toMatchObject({ ok: false, code: 'root_mismatch' });
    }
  });

  it('refuses a proof checked against the wrong root, and reports both roots', () => {
    const wrongRoot = rootOfSize(7);
    const result = verifyInclusion({ ...good, root: wrongRoot });
    expect(result).toMatchObject({ ok: false, code: 'root_mismatch' });
    if (!result.ok) expect(result.message).toContain(toHex(wrongRoot));
    const computed = rootFromInclusion(good);
    expect(computed.ok && toHex(computed.root)).toBe(toHex(root));
  });

  it('refuses a proof for a different leaf, leaf index or tree size', () => {
    expect(verifyInclusion({ ...good, leafHash: leaves[4]! }).ok).toBe(false);
    expect(verifyInclusion({ ...good, index: 4n }).ok).toBe(false);
    expect(verifyInclusion({ ...good, index: 7n }).ok).toBe(false);
    expect(verifyInclusion({ ...good, treeSize: 16n }).ok).toBe(false);
    expect(verifyInclusion({ ...good, treeSize: 4n }).ok).toBe(false);
  });

  it('refuses hashes that are not 32 bytes', () => {
    expect(verifyInclusion({ ...good, leafHash: new Uint8Array(31) })).toMatchObject({ ok: false, code: 'invalid_hash_length' });
    expect(verifyInclusion({ ...good, path: [...path.slice(0, 2), new Uint8Array(0)] })).toMatchObject({ ok: false, code: 'invalid_hash_length' });
    expect(verifyInclusion({ ...good, root: new Uint8Array(33) })).toMatchObject({ ok: false, code: 'invalid_hash_length' });
  });

  it('verifies the one-leaf tree with an empty path', () => {
    expect(verifyInclusion({ leafHash: leaves[0]!, index: 0n, treeSize: 1n, path: [], root: leaves[0]! })).toEqual({ ok: true });
  });
});

describe('consistency proof failures', () => {
  const oldRoot = rootOfSize(6);
  const newRoot = rootOfSize(8);
  const path = consistencyPath(6, refLeaves);
  const good = { oldSize: 6n, newSize: 8n, oldRoot, newRoot, path };

  it('accepts the proof unchanged', () => {
    expect(verifyConsistency(good)).toEqual({ ok: true });
  });

  it('refuses swapped roots and roots of other sizes', () => {
    expect(verifyConsistency({ ...good, oldRoot: newRoot, newRoot: oldRoot }).ok).toBe(false);
    expect(verifyConsistency({ ...good, oldRoot: rootOfSize(5) })).toMatchObject({ ok: false, code: 'old_root_mismatch' });
    expect(verifyConsistency({ ...good, newRoot: rootOfSize(7) })).toMatchObject({ ok: false, code: 'new_root_mismatch' });
  });

  it('refuses a truncated, extended, empty or bit-flipped path', () => {
    expect(verifyConsistency({ ...good, path: path.slice(0, -1) })).toMatchObject({ ok: false, code: 'path_too_short' });
    expect(verifyConsistency({ ...good, path: [...path, oldRoot] })).toMatchObject({ ok: false, code: 'path_too_long' });
    expect(verifyConsistency({ ...good, path: [] })).toMatchObject({ ok: false, code: 'empty_path' });
    for (let i = 0; i < path.length; i++) {
      expect(verifyConsistency({ ...good, path: path.map((p, j) => (j === i ? flipBit(p) : p)) }).ok).toBe(false);
    }
  });

  it('refuses wrong sizes, including an old size larger than the new one', () => {
    expect(verifyConsistency({ ...good, oldSize: 5n }).ok).toBe(false);
    expect(verifyConsistency({ ...good, oldSize: 7n }).ok).toBe(false);
    expect(verifyConsistency({ ...good, newSize: 16n }).ok).toBe(false);
    expect(verifyConsistency({ ...good, oldSize: 9n })).toMatchObject({ ok: false, code: 'sizes_out_of_order' });
  });

  it('handles equal sizes and an empty old tree as the RFC implies', () => {
    expect(verifyConsistency({ oldSize: 8n, newSize: 8n, oldRoot: newRoot, newRoot, path: [] })).toEqual({ ok: true });
    expect(verifyConsistency({ oldSize: 8n, newSize: 8n, oldRoot, newRoot, path: [] })).toMatchObject({ ok: false, code: 'root_mismatch' });
    expect(verifyConsistency({ oldSize: 8n, newSize: 8n, oldRoot: newRoot, newRoot, path: [newRoot] })).toMatchObject({ ok: false, code: 'unexpected_path' });
    expect(verifyConsistency({ oldSize: 0n, newSize: 8n, oldRoot: rootOfHashes([]), newRoot, path: [] })).toEqual({ ok: true });
    expect(consistencyPath(0, refLeaves)).toEqual([]);
    expect(consistencyPath(8, refLeaves)).toEqual([]);
    expect(() => consistencyPath(9, refLeaves)).toThrow(RangeError);
  });
});
