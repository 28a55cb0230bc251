/** Bundles built in memory (no database): a chained day of one workspace, its anchor and its event lines. */
import {
  anchorRecordHash, buildDayTree, buildGlobalTree, bundleEventLine, canonicalJson, computeEventHash, dayPeriod, eventInclusionProof, fromHex,
  hashedEventOf, SUBTREE_SIZE, toHex, type AnchorRecord, type BundleEventLine, type BundleHeader, type StoredChainedEvent,
} from '../core/mod.ts';

/** Metadata and targets of the kinds clients send: non-ASCII text, escapes, numbers, nesting. */
function richFields(i: number): { metadata: Record<string, unknown>; targets: Array<{ type: string; id?: string; name?: string; metadata?: Record<string, unknown> }>; actor_name: string } {
  return {
    actor_name: ['Zoë Müller', 'José "Pepe" García', '李小龍', 'Ana\tSilva', 'Kwame 🚀 Mensah'][i % 5]!,
    metadata: {
      amount: [0, -1, 1.5, 1e21, 12345678901234, 0.1, 2 ** 53][i % 7],
      changes: [{ field: 'title', from: `old\n${i}`, to: 'new \\ path/to' }],
      flags: { archived: i % 2 === 0, deleted: null },
      'key-with-dash': `ctl\u0001\u001f`,
      note: 'emoji 😀 and 中文 and \u2028 separator',
    },
    targets: [{ type: 'folder', id: `f_${i}`, name: 'Reports' }, { type: 'user', metadata: { role: 'owner' } }],
  };
}

/** A chained day of `n` events in one workspace, its anchor and a bundle of it (parsed lines). */
export function syntheticBundle(n: number, options: { rich?: boolean } = {}): { header: BundleHeader; lines: BundleEventLine[] } {
  const workspace = '7a1f3d2e-0000-4000-8000-000000000001';
  const { period_start, period_end } = dayPeriod('2026-03-16')!;
  const events: StoredChainedEvent[] = [];
  let previous: string | null = 'c'.repeat(64);
  for (let i = 0; i < n; i++) {
    const micros = String(i).padStart(6, '0');
    const fields = {
      workspace_id: workspace, id: `evt_${i}`, actor_id: `user_${i % 7}`, actor_name: null as string | null, actor_type: 'user', action: 'document.viewed',
      action_category: null, resource: 'document', resource_id: `doc_${i}`, resource_name: null, metadata: { n: i } as Record<string, unknown>,
      targets: [] as Array<{ type: string; id?: string; name?: string }>,
      tenant_id: null, session_id: null, idempotency_key: null, version: options.rich ? i % 3 : null, ip_address: null, ip_country: null, ip_city: null,
      user_agent: null, occurred_at: `2026-03-16T10:00:00.${micros}Z`, created_at: `2026-03-16T10:00:01.${micros}Z`,
      ...(options.rich ? richFields(i) : {}),
    };
    const event_hash = computeEventHash(fields, previous);
    events.push({ ...fields, event_hash, previous_event_hash: previous });
    previous = event_hash;
  }
  const hashes = events.map((e) => fromHex(e.event_hash));
  const tree = buildDayTree(hashes);
  const record: AnchorRecord = {
    v: 1, workspace_id: workspace, period_start, period_end, events_count: n, merkle_root: tree.merkleRoot,
    first_event_hash: events[0]!.event_hash, last_event_hash: events[n - 1]!.event_hash, previous_anchor_hash: null,
  };
  const hash = anchorRecordHash(record);
  const global = buildGlobalTree([hash, 'd'.repeat(64)]).proofs[0]!;
  const header: BundleHeader = {
    type: 'sealtrail.anchor_bundle', v: 1, anchor: { id: 'a', record, hash }, previous_anchor: null, subtree_size: SUBTREE_SIZE,
    subtree_roots: tree.subtreeRoots.map(toHex), global,
    transaction: { chain: 'local', chain_id: 31337, tx_hash: null, block_number: null, signer: null, status: 'pending', explorer_url: null },
  };
  const lines = events.map((event, i) => {
    const run = Math.floor(i / SUBTREE_SIZE);
    return {
      type: 'event' as const, event_hash: event.event_hash,
      inclusion: eventInclusionProof(i, hashes.slice(run * SUBTREE_SIZE, (run + 1) * SUBTREE_SIZE), tree.subtreeRoots, n),
      event: hashedEventOf(event, event.previous_event_hash),
    };
  });
  return { header, lines };
}

/** An event line as the service writes it into a bundle file. */
export function lineText(line: BundleEventLine): string {
  return bundleEventLine(line.event_hash, line.inclusion, canonicalJson(line.event));
}
