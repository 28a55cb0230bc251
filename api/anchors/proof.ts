/**
 * Assembling per-event proofs and bundles from stored data. A proof reads the event, its
 * anchor, and the ≤256 event hashes of its run (a seq range on the primary key) in one
 * statement; the rest of the path comes from the anchor's stored subtree roots and global path.
 */
import type pg from 'pg';
import {
  bundleEventLine, dayPeriod, EVENT_PROOF_VERSION, eventHashPreimage, eventInclusionProof, hashedEventOf, runInclusionProofs, SUBTREE_SIZE, unpackHashes,
  type BundleHeader, type EventProof,
} from '../../core/mod.ts';
import {
  anchorRecordOf, EVENT_COLUMNS, eventFromRow, findEventProofData, findStoredAnchor, isQueued, type AnchorWithRun,
} from '../../store/mod.ts';
import { transactionRef, type ExplorerLookup } from './presenter.ts';


export type EventProofResult =
  | { kind: 'proof'; proof: EventProof }
  | { kind: 'not_found'; queued: boolean }
  | { kind: 'not_anchored'; day: string; anchoredFrom: string };

/**
 * The proof of one event of the workspace: its fields and hashes, its path to the anchored
 * workspace-day root, the anchor record, its path to the global root, and the transaction.
 */
export async function loadEventProof(pool: pg.Pool, explorer: ExplorerLookup, workspaceId: string, eventId: string, scheduleMinute: number): Promise<EventProofResult> {
  const data = await findEventProofData(pool, workspaceId, eventId);
  if (!data) return { kind: 'not_found', queued: await isQueued(pool, workspaceId, eventId) };
  const { event: stored, anchored } = data;
  if (!anchored) {
    const day = stored.created_at.slice(0, 10);
    const from = new Date(Date.parse(dayPeriod(day)!.period_end) + scheduleMinute * 60_000).toISOString();
    return { kind: 'not_anchored', day, anchoredFrom: from };
  }
  const { anchor, run } = anchored;
  const leaf = stored.seq - anchor.first_seq;
  return {
    kind: 'proof',
    proof: {
      v: EVENT_PROOF_VERSION,
      event_hash: stored.event_hash,
      event: hashedEventOf(stored, stored.previous_event_hash),
      inclusion: eventInclusionProof(leaf, data.runHashes, anchor.subtree_roots, anchor.events_count),
      anchor: { id: anchor.id, record: anchorRecordOf(anchor), hash: anchor.anchor_hash },
      global: { leaf_index: anchor.global_index, tree_size: run.anchors_count, path: anchor.global_path, root: run.global_root },
      transaction: transactionRef(run, explorer),
    },
  };
}

/** The first line of an anchor's bundle. */
export async function bundleHeader(pool: pg.Pool, explorer: ExplorerLookup, found: AnchorWithRun): Promise<BundleHeader> {
  const { anchor, run } = found;
  const previous = anchor.previous_anchor_id ? await findStoredAnchor(pool, anchor.previous_anchor_id) : undefined;
  return {
    type: 'sealtrail.anchor_bundle',
    v: 1,
    anchor: { id: anchor.id, record: anchorRecordOf(anchor), hash: anchor.anchor_hash },
    previous_anchor: previous ? { id: previous.id, record: anchorRecordOf(previous), hash: previous.anchor_hash } : null,
    subtree_size: SUBTREE_SIZE,
    subtree_roots: anchor.subtree_roots.map((r) => Buffer.from(r).toString('hex')),
    global: { leaf_index: anchor.global_index, tree_size: run.anchors_count, path: anchor.global_path, root: run.global_root },
    transaction: transactionRef(run, explorer),
  };
}

/**
 * The event lines of an anchor's bundle, one run of 256 events at a time (one seq-range
 * query each), each line `{"type":"event","event":…,"inclusion":…}` + newline.
 */
export async function* bundleEventLines(pool: pg.Pool, found: AnchorWithRun): AsyncGenerator<string> {
  const { anchor } = found;
  const runs = Math.ceil(anchor.events_count / SUBTREE_SIZE);
  for (let run = 0; run < runs; run++) {
    const from = anchor.first_seq + run * SUBTREE_SIZE;
    const to = Math.min(anchor.last_seq, from + SUBTREE_SIZE - 1);
    const { rows } = await pool.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE workspace_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
      [anchor.workspace_id, from, to]);
    const events = rows.map((r) => eventFromRow(r));
    // Paths come from the stored hashes the anchor was built from; a verifier recomputes and compares.
    const proofs = runInclusionProofs(run, events.map((e) => Buffer.from(e.event_hash, 'hex')), anchor.subtree_roots, anchor.events_count);
    let chunk = '';
    for (let j = 0; j < events.length; j++) {
      // The event member is the hashed object written as its own RFC 8785 preimage.
      const e = events[j]!;
      chunk += `${bundleEventLine(e.event_hash, proofs[j]!, eventHashPreimage(e, e.previous_event_hash))}\n`;
    }
    yield chunk;
  }
}
