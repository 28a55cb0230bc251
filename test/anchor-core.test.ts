import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  anchorRecordHash, buildDayTree, buildGlobalTree, BundleEventChecker, checkAnchorTransaction, computeEventHash,
  decodeAnchorPayload, encodeAnchorPayload, eventInclusionProof, fromHex, packHashes, recomputeHashedEvent, runInclusionProofs, sha256, SUBTREE_SIZE, toHex, unpackHashes,
  verifyBundle, verifyEventProof, type AnchorRecord, type BundleEventLine, type BundleHeader, type EventProof,
  type InclusionProofJson, type ObservedAnchorTransaction,
} from '../core/mod.ts';

interface AnchorVectors {
  day_trees: Array<{ workspace_id: string; events_count: number; event_hashes: string[] | 'synthetic'; merkle_root: string; subtree_roots: string[]; inclusion_proofs: InclusionProofJson[] }>;
  anchors: Array<{ record: AnchorRecord; canonical: string; anchor_hash: string; subtree_roots: string[] }>;
  global_trees: Array<{ day: string; anchor_hashes: string[]; root: string; proofs: Array<InclusionProofJson & { root: string }>; calldata: string }>;
  event_proofs: EventProof[];
  bundle: [BundleHeader, ...BundleEventLine[]];
}

import { syntheticBundle } from './bundle-fixtures.ts';

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors/anchor-v1.json'), 'utf8')) as AnchorVectors;
const synthetic = (ws: string, n: number) => Array.from({ length: n }, (_, i) => toHex(sha256(`sealtrail vector ${ws} ${i}`)));
const hashesOf = (t: AnchorVectors['day_trees'][number]) => t.event_hashes === 'synthetic' ? synthetic(t.workspace_id, t.events_count) : t.event_hashes;
const codes = (failures: Array<{ code: string }>) => failures.map((f) => f.code);

describe('anchor test vectors (computed independently from docs/integrity.md)', () => {
  it.each(vectors.day_trees.map((t) => [t.workspace_id, t] as const))('builds the day tree of %s with its subtree roots', (_ws, tree) => {
    const built = buildDayTree(hashesOf(tree).map(fromHex));
    expect(built.merkleRoot).toBe(tree.merkle_root);
    expect(built.subtreeRoots.map(toHex)).toEqual(tree.subtree_roots);
  });

  it('answers every inclusion proof from one run of event hashes plus the stored subtree roots', () => {
    for (const tree of vectors.day_trees) {
      const hashes = hashesOf(tree).map(fromHex);
      const roots = unpackHashes(packHashes(tree.subtree_roots.map(fromHex)));
      for (const expected of tree.inclusion_proofs) {
        const run = Math.floor(expected.leaf_index / SUBTREE_SIZE);
        const runHashes = hashes.slice(run * SUBTREE_SIZE, (run + 1) * SUBTREE_SIZE);
        expect(eventInclusionProof(expected.leaf_index, runHashes, roots, tree.events_count)).toEqual(expected);
      }
    }
  });

  it('answers a whole run of proofs at once, identical to one-by-one proofs', () => {
    const tree = vectors.day_trees[0]!;
    const hashes = hashesOf(tree).map(fromHex);
    const roots = tree.subtree_roots.map(fromHex);
    for (const run of [0, 2]) {
      const runHashes = hashes.slice(run * SUBTREE_SIZE, (run + 1) * SUBTREE_SIZE);
      expect(runInclusionProofs(run, runHashes, roots, tree.events_count))
        .toEqual(runHashes.map((_, j) => eventInclusionProof(run * SUBTREE_SIZE + j, runHashes, roots, tree.events_count)));
    }
  });

  it('hashes every anchor record to its vector hash, from its canonical JSON', () => {
    for (const a of vectors.anchors) expect(anchorRecordHash(a.record)).toBe(a.anchor_hash);
    expect(toHex(sha256(vectors.anchors[0]!.canonical))).toBe(vectors.anchors[0]!.anchor_hash);
  });

  it('builds the global trees, their proofs and the transaction calldata', () => {
    for (const g of vectors.global_trees) {
      const built = buildGlobalTree(g.anchor_hashes);
      expect(built.root).toBe(g.root);
      expect(built.proofs).toEqual(g.proofs);
      expect(encodeAnchorPayload({ globalRoot: g.root, day: g.day, treeSize: g.anchor_hashes.length })).toBe(g.calldata);
      expect(decodeAnchorPayload(g.calldata)).toEqual({ ok: true, globalRoot: g.root, day: g.day, treeSize: g.anchor_hashes.length });
    }
  });

  it('accepts every vector event proof and the vector bundle', () => {
    for (const proof of vectors.event_proofs) expect(verifyEventProof(proof)).toEqual([]);
    const [header, ...lines] = vectors.bundle;
    const report = verifyBundle(header, lines);
    expect(report.headerFailures).toEqual([]);
    expect(report.bundleFailures).toEqual([]);
    expect(report.verdicts.map((v) => v.failures)).toEqual(lines.map(() => []));
  });
});

describe('events as proofs carry them (the hashed object)', () => {
  const eventVectors = (JSON.parse(readFileSync(join(import.meta.dirname, 'vectors/event-hash-v1.json'), 'utf8')) as {
    vectors: Array<{ preimage: string; event_hash: string }>;
  }).vectors;

  it('recomputes every event-hash vector from its parsed preimage', () => {
    for (const v of eventVectors) expect(recomputeHashedEvent(JSON.parse(v.preimage))).toEqual({ ok: true, hash: v.event_hash });
  });

  it('gives the same hash when members are not in canonical order, including integer-like keys', () => {
    for (const v of eventVectors) {
      const event = JSON.parse(v.preimage) as Record<string, unknown>;
      const reversed = Object.fromEntries(Object.entries(event).reverse());
      reversed.metadata = { ...(event.metadata as object), '10': 'ten', '9': 'nine' };
      const expected = computeEventHash(reversed as never, reversed.previous_event_hash as string | null);
      expect(recomputeHashedEvent(reversed)).toEqual({ ok: true, hash: expected });
    }
  });

  it('refuses an object with extra or missing members, whose hash would not cover what is shown', () => {
    const event = JSON.parse(eventVectors[0]!.preimage) as Record<string, unknown>;
    expect(recomputeHashedEvent({ ...event, note: 'x' })).toMatchObject({ ok: false, code: 'not_hashed_object', message: expect.stringContaining('unexpected: note') });
    const { actor_name: _gone, ...missing } = event;
    expect(recomputeHashedEvent(missing)).toMatchObject({ ok: false, code: 'not_hashed_object', message: expect.stringContaining('missing: actor_name') });
    expect(recomputeHashedEvent({ ...event, v: 2 })).toMatchObject({ ok: false, code: 'unhashable' });
    expect(recomputeHashedEvent({ ...event, created_at: '2026-03-15T14:32:18Z' })).toMatchObject({ ok: false, code: 'unhashable' });
  });
});

describe('a single-event proof', () => {
  const good = () => structuredClone(vectors.event_proofs[1]!);

  it('reports a changed field as hash_mismatch', () => {
    const proof = good();
    proof.event.actor_name = 'Mallory';
    expect(codes(verifyEventProof(proof))).toEqual(['hash_mismatch']);
  });

  it('reports a forged path element as inclusion_failed, naming the root it leads to', () => {
    const proof = good();
    proof.inclusion.path[0] = 'f'.repeat(64);
    const failures = verifyEventProof(proof);
    expect(codes(failures)).toEqual(['inclusion_failed']);
    expect(failures[0]!.message).toContain(`expected ${proof.anchor.record.merkle_root}`);
  });

  it('reports a proof checked against another root as a changed anchor record', () => {
    const proof = good();
    proof.anchor.record.merkle_root = vectors.anchors[0]!.record.merkle_root;
    expect(codes(verifyEventProof(proof))).toEqual(['inclusion_failed', 'anchor_hash_mismatch', 'global_inclusion_failed']);
  });

  it('reports an anchor that is not in the global tree', () => {
    const proof = good();
    proof.global.root = vectors.global_trees[0]!.root;
    expect(codes(verifyEventProof(proof))).toEqual(['global_inclusion_failed']);
  });

  it('reports an event of another day', () => {
    const proof = structuredClone(vectors.event_proofs[0]!);
    proof.anchor = structuredClone(vectors.bundle[0].previous_anchor!);
    expect(codes(verifyEventProof(proof))).toContain('outside_period');
  });
});

describe('an offline bundle check', () => {
  const fresh = syntheticBundle(700);
  const copy = () => structuredClone(fresh);
  const failing = (r: ReturnType<typeof verifyBundle>) => r.verdicts.filter((v) => v.failures.length > 0).map((v) => [v.position, codes(v.failures)]);

  it('accepts an intact day spanning several 256-event runs', () => {
    const r = verifyBundle(fresh.header, fresh.lines);
    expect([r.headerFailures, r.bundleFailures, failing(r)]).toEqual([[], [], []]);
    expect(r.verdicts).toHaveLength(700);
  });

  it('pins a changed event to that one event', () => {
    const { header, lines } = copy();
    (lines[300]!.event.metadata as { n: number }).n = 9999;
    expect(failing(verifyBundle(header, lines))).toEqual([[300, ['hash_mismatch']]]);
  });

  it('finds a removed event by the broken link after it and the count', () => {
    const { header, lines } = copy();
    lines.splice(513, 1);
    const r = verifyBundle(header, lines);
    expect(failing(r)).toEqual([[513, ['chain_break', 'missing_events']]]);
    expect(r.verdicts[513]!.failures[1]!.message).toBe('leaf 513 is missing before this event (leaf 514)');
    expect(codes(r.bundleFailures)).toEqual(['count_mismatch']);
  });

  it('finds a swapped pair by its links and positions, while each proof still holds', () => {
    const { header, lines } = copy();
    [lines[10], lines[11]] = [lines[11]!, lines[10]!];
    expect(failing(verifyBundle(header, lines))).toEqual([[10, ['chain_break', 'missing_events']], [11, ['chain_break', 'out_of_order']], [12, ['chain_break']]]);
  });

  it('pins a forged proof to its event', () => {
    const { header, lines } = copy();
    lines[650]!.inclusion.path[2] = '0'.repeat(64);
    expect(failing(verifyBundle(header, lines))).toEqual([[650, ['inclusion_failed']]]);
  });

  it('rejects a header whose subtree roots do not make up the anchored root', () => {
    const { header, lines } = copy();
    header.subtree_roots[1] = 'e'.repeat(64);
    expect(codes(verifyBundle(header, lines).headerFailures)).toEqual(['subtree_roots_mismatch']);
  });

  it('reaches the same verdicts when checked in parallel slices joined at run boundaries', () => {
    const { header, lines } = copy();
    (lines[600]!.event as { action: string }).action = 'document.deleted';
    const first = new BundleEventChecker(header);
    const second = new BundleEventChecker(header, { startPosition: 512 });
    const verdicts = [...lines.slice(0, 512).flatMap((l) => first.push(l)), ...first.finish(), ...lines.slice(512).flatMap((l) => second.push(l)), ...second.finish()];
    expect(second.firstPreviousEventHash).toBe(first.lastEventHash);
    expect(verdicts.filter((v) => v.failures.length > 0).map((v) => [v.position, codes(v.failures)])).toEqual([[600, ['hash_mismatch']]]);
  });
});

describe('checking the transaction', () => {
  const g = vectors.global_trees[1]!;
  const expected = { chainId: 31337, txHash: '0x' + 'ab'.repeat(32), globalRoot: g.root, treeSize: 3, day: g.day, signer: '0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266', blockNumber: 7 };
  const observed = (input: string): ObservedAnchorTransaction => ({
    chainId: 31337, latestBlock: 9, receipt: { status: 'success', blockNumber: 7 },
    transaction: { hash: expected.txHash, from: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', input, blockNumber: 7 },
  });

  it('accepts a mined transaction carrying the root, counting confirmations', () => {
    expect(checkAnchorTransaction(expected, observed(g.calldata))).toEqual({ ok: true, confirmations: 3, failures: [] });
  });

  it('rejects a transaction that carries another root, or no anchor at all', () => {
    const other = encodeAnchorPayload({ globalRoot: vectors.global_trees[0]!.root, day: g.day, treeSize: 3 });
    expect(codes(checkAnchorTransaction(expected, observed(other)).failures)).toEqual(['tx_root_mismatch']);
    expect(codes(checkAnchorTransaction(expected, observed('0x')).failures)).toEqual(['tx_not_an_anchor']);
  });

  it('rejects another chain, an unknown transaction and another sender', () => {
    expect(codes(checkAnchorTransaction(expected, { ...observed(g.calldata), chainId: 8453 }).failures)).toEqual(['chain_id_mismatch']);
    expect(codes(checkAnchorTransaction(expected, { ...observed(g.calldata), transaction: null, receipt: null }).failures)).toEqual(['tx_not_found']);
    expect(codes(checkAnchorTransaction({ ...expected, signer: '0x' + '1'.repeat(40) }, observed(g.calldata)).failures)).toEqual(['tx_signer_mismatch']);
  });
});
