import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeEventHash } from '../../core/event-hash.ts';
import type { ChainedEventFields } from '../../core/event-hash.ts';
import { ChainVerifier } from '../../core/verify-chain.ts';
import type { ChainBreak, StoredChainedEvent } from '../../core/verify-chain.ts';

const vectors = (JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/event-hash-v1.json'), 'utf8')) as {
  vectors: Array<{ fields: ChainedEventFields; previous_event_hash: string | null; event_hash: string }>;
}).vectors;

/** A valid stored chain: the test vectors, which link into one chain in file order. */
function storedChain(): StoredChainedEvent[] {
  return vectors.map((v) => ({ ...structuredClone(v.fields), previous_event_hash: v.previous_event_hash, event_hash: v.event_hash }));
}

// `start` has no default on purpose: undefined means "unknown" to the verifier.
function verifyAll(events: readonly StoredChainedEvent[], start: string | null | undefined): ChainBreak[] {
  const verifier = new ChainVerifier(start);
  return events.flatMap((e) => verifier.push(e));
}

describe('ChainVerifier', () => {
  it('reports nothing for an intact chain and counts the events', () => {
    const events = storedChain();
    const verifier = new ChainVerifier(null);
    for (const e of events) expect(verifier.push(e)).toEqual([]);
    expect(verifier.eventsChecked).toBe(events.length);
    expect(verifier.lastEventHash).toBe(events[events.length - 1]!.event_hash);
  });

  it('starts with lastEventHash = the given starting hash, or null when unknown', () => {
    expect(new ChainVerifier(undefined).lastEventHash).toBeNull();
    expect(new ChainVerifier(null).lastEventHash).toBeNull();
    expect(new ChainVerifier('a'.repeat(64)).lastEventHash).toBe('a'.repeat(64));
    expect(new ChainVerifier(null).eventsChecked).toBe(0);
  });

  it('detects a changed metadata value as hash_mismatch on that event only', () => {
    const events = storedChain();
    events[2]!.metadata = { ...events[2]!.metadata, note: 'edited after the fact' };
    const breaks = verifyAll(events, null);
    expect(breaks).toHaveLength(1);
    expect(breaks[0]).toEqual({
      event_id: events[2]!.id,
      type: 'hash_mismatch',
      expected_hash: computeEventHash(events[2]!, events[2]!.previous_event_hash),
      actual_hash: events[2]!.event_hash,
    });
  });

  it('detects a changed timestamp, actor or target as hash_mismatch', () => {
    const edits: Array<(e: StoredChainedEvent) => void> = [
      (e) => { e.occurred_at = '2026-01-01T00:00:00.000000Z'; },
      (e) => { e.actor_id = 'usr_someone_else'; },
      (e) => { e.targets = []; },
      (e) => { e.ip_city = null; },
    ];
    for (const edit of edits) {
      const events = storedChain();
      edit(events[5]!);
      expect(verifyAll(events, null).map((b) => [b.event_id, b.type])).toEqual([[events[5]!.id, 'hash_mismatch']]);
    }
  });

  it('detects an overwritten event_hash as hash_mismatch and then a chain_break on the next event', () => {
    const events = storedChain();
    const original = events[1]!.event_hash;
    events[1]!.event_hash = 'f'.repeat(64);
    expect(verifyAll(events, null)).toEqual([
      { event_id: events[1]!.id, type: 'hash_mismatch', expected_hash: original, actual_hash: 'f'.repeat(64) },
      { event_id: events[2]!.id, type: 'chain_break', expected_hash: 'f'.repeat(64), actual_hash: original },
    ]);
  });

  it('detects a deleted event as one chain_break on the event after the gap', () => {
    const events = storedChain();
    const [deleted] = events.splice(3, 1);
    expect(verifyAll(events, null)).toEqual([
      { event_id: events[3]!.id, type: 'chain_break', expected_hash: events[2]!.event_hash, actual_hash: deleted!.event_hash },
    ]);
  });

  it('detects a swapped pair of events as chain_breaks', () => {
    const events = storedChain();
    [events[2], events[3]] = [events[3]!, events[2]!];
    const breaks = verifyAll(events, null);
    expect(breaks.every((b) => b.type === 'chain_break')).toBe(true);
    expect(breaks.map((b) => b.event_id)).toEqual([events[2]!.id, events[3]!.id, events[4]!.id]);
  });

  it('detects an inserted event, even one with a correct hash of its own, as a chain_break after it', () => {
    const events = storedChain();
    const forgedFields = { ...structuredClone(vectors[0]!.fields), id: 'evt_forged', action: 'user.promoted' };
    const forgedPrevious = events[2]!.event_hash;
    const forged: StoredChainedEvent = {
      ...forgedFields,
      previous_event_hash: forgedPrevious,
      event_hash: computeEventHash(forgedFields, forgedPrevious),
    };
    events.splice(3, 0, forged);
    expect(verifyAll(events, null)).toEqual([
      { event_id: events[4]!.id, type: 'chain_break', expected_hash: forged.event_hash, actual_hash: forgedPrevious },
    ]);
  });

  it('reports both problems when one event is re-linked and re-hashed inconsistently', () => {
    const events = storedChain();
    events[4]!.previous_event_hash = 'a'.repeat(64);
    const types = verifyAll(events, null).filter((b) => b.event_id === events[4]!.id).map((b) => b.type);
    expect(types).toEqual(['hash_mismatch', 'chain_break']);
  });

  it('checks the first link against the known starting hash', () => {
    const events = storedChain();
    expect(verifyAll(events, null)).toEqual([]);
    expect(verifyAll(events.slice(3), events[2]!.event_hash)).toEqual([]);
    expect(verifyAll(events.slice(3), 'b'.repeat(64))).toEqual([
      { event_id: events[3]!.id, type: 'chain_break', expected_hash: 'b'.repeat(64), actual_hash: events[2]!.event_hash },
    ]);
  });

  it('flags a first event that claims a predecessor when the workspace should start with null', () => {
    const events = storedChain().slice(1);
    expect(verifyAll(events, null)).toEqual([
      { event_id: events[0]!.id, type: 'chain_break', expected_hash: null, actual_hash: events[0]!.previous_event_hash },
    ]);
  });

  it('skips the first link check when the starting hash is unknown', () => {
    expect(verifyAll(storedChain().slice(4), undefined)).toEqual([]);
  });

  it('reports a stored row that cannot be hashed at all as hash_mismatch with no expected hash, and keeps going', () => {
    const events = storedChain();
    events[1]!.occurred_at = '2026-03-15T14:33:00Z';
    events[4]!.metadata = { ...events[4]!.metadata, note: 'x' };
    const breaks = verifyAll(events, null);
    expect(breaks).toEqual([
      { event_id: events[1]!.id, type: 'hash_mismatch', expected_hash: null, actual_hash: events[1]!.event_hash },
      { event_id: events[4]!.id, type: 'hash_mismatch', expected_hash: computeEventHash(events[4]!, events[4]!.previous_event_hash), actual_hash: events[4]!.event_hash },
    ]);
  });
});
