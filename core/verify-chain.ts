/**
 * Streaming hash-chain verifier, shared by the API and the offline CLI so both report
 * tampering identically (rules: docs/integrity.md, "Chain rules").
 */
import { CanonicalJsonError } from './canonical.ts';
import { computeEventHash, EventHashError } from './event-hash.ts';
import type { ChainedEventFields } from './event-hash.ts';

export interface ChainBreak {
  /** The event where the break shows; null only for a chain cut down to no events at all. */
  event_id: string | null;
  type: 'hash_mismatch' | 'chain_break';
  expected_hash: string | null;
  actual_hash: string | null;
}

export interface StoredChainedEvent extends ChainedEventFields {
  event_hash: string;
  previous_event_hash: string | null;
}

/**
 * Checks events one at a time in chain order, holding only the previous hash, so a
 * workspace of any size can be verified from a cursor or a file stream. Each event gets
 * two independent checks: `hash_mismatch` (its stored fields and stored
 * previous_event_hash do not hash to its stored event_hash: expected = recomputed, or
 * null if the stored fields cannot be hashed at all; actual = stored) and `chain_break`
 * (its previous_event_hash is not the preceding event's stored event_hash: expected =
 * preceding hash, actual = this event's previous_event_hash). The constructor takes the
 * hash the first pushed event must link to: null for a workspace's first event, a hash
 * to resume mid-chain, or undefined to skip that first link check.
 *
 * @example
 * const verifier = new ChainVerifier(null);
 * const breaks = rows.flatMap((row) => verifier.push(row)); // [] when intact
 */
export class ChainVerifier {
  #expectedPrevious: string | null | undefined;
  #eventsChecked = 0;

  constructor(previousEventHash: string | null | undefined) {
    this.#expectedPrevious = previousEventHash;
  }

  /** Events pushed so far. */
  get eventsChecked(): number {
    return this.#eventsChecked;
  }

  /**
   * Stored event_hash of the last pushed event (what the next event must link to); before
   * any push, the constructor's hash, or null when that was unknown.
   */
  get lastEventHash(): string | null {
    return this.#expectedPrevious ?? null;
  }

  /** Check the next event in chain order; returns its breaks, `[]` when intact. */
  push(event: StoredChainedEvent): ChainBreak[] {
    const breaks: ChainBreak[] = [];
    const recomputed = recomputeOrNull(event);
    if (recomputed !== event.event_hash) {
      breaks.push({ event_id: event.id, type: 'hash_mismatch', expected_hash: recomputed, actual_hash: event.event_hash });
    }
    const expectedPrevious = this.#expectedPrevious;
    if (expectedPrevious !== undefined && event.previous_event_hash !== expectedPrevious) {
      breaks.push({ event_id: event.id, type: 'chain_break', expected_hash: expectedPrevious, actual_hash: event.previous_event_hash });
    }
    // Link the next event to what is stored, not what we recomputed: one tampered
    // event should produce one hash_mismatch, not a cascade of chain_breaks.
    this.#expectedPrevious = event.event_hash;
    this.#eventsChecked++;
    return breaks;
  }
}

// Stored fields that cannot be hashed (a malformed timestamp or previous hash, a
// non-JSON value) cannot match any stored hash; reporting that as a mismatch keeps one
// bad row from aborting the verification of everything after it.
function recomputeOrNull(event: StoredChainedEvent): string | null {
  try {
    return computeEventHash(event, event.previous_event_hash);
  } catch (e) {
    if (e instanceof EventHashError || e instanceof CanonicalJsonError) return null;
    throw e;
  }
}
