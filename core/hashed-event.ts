/**
 * Events as proofs and bundles carry them: exactly the hashed object of event hash v1 (the
 * stored fields plus `previous_event_hash` and `"v":1`), beside its `event_hash`. A third
 * party then checks `event_hash = SHA-256(JCS(event))` with any RFC 8785 library, without
 * knowing which fields to pick.
 *
 * Sealtrail writes that object with its members already in canonical order, so a verifier
 * can skip re-sorting: when every object in it is already sorted, JSON.stringify produces
 * exactly the RFC 8785 form (RFC 8785 §3.2.2 chose ECMAScript's string and number
 * serialisation for this reason). Anything else takes the general canonicalisation.
 */
import { hash } from 'node:crypto';
import { MAX_DEPTH } from './canonical-bytes.ts';
import { CanonicalJsonError } from './canonical.ts';
import { EVENT_HASH_VERSION, eventHashPreimage, EventHashError, type ChainedEventFields } from './event-hash.ts';

/** The hashed object of event hash v1. */
export interface HashedEvent extends ChainedEventFields {
  previous_event_hash: string | null;
  v: typeof EVENT_HASH_VERSION;
}

/** Its 24 member names, in RFC 8785 order. */
export const HASHED_EVENT_KEYS = [
  'action', 'action_category', 'actor_id', 'actor_name', 'actor_type', 'created_at', 'id', 'idempotency_key', 'ip_address',
  'ip_city', 'ip_country', 'metadata', 'occurred_at', 'previous_event_hash', 'resource', 'resource_id', 'resource_name',
  'session_id', 'targets', 'tenant_id', 'user_agent', 'v', 'version', 'workspace_id',
] as const;
const KEY_LIST = HASHED_EVENT_KEYS.join(',');

/** The hashed object of stored fields, members in canonical order (what proofs and bundles carry). */
export function hashedEventOf(fields: ChainedEventFields, previousEventHash: string | null): HashedEvent {
  return JSON.parse(eventHashPreimage(fields, previousEventHash)) as HashedEvent;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const HEX_HASH = /^[0-9a-f]{64}$/;
const OPTIONAL_TEXT = ['action_category', 'actor_name', 'actor_type', 'idempotency_key', 'ip_address', 'ip_city', 'ip_country',
  'resource', 'resource_id', 'resource_name', 'session_id', 'tenant_id', 'user_agent'] as const;

/**
 * Every object member already in UTF-16 order and every string well-formed, down to MAX_DEPTH
 * levels (deeper input is left to the general canonicalisation, with its own limit, instead of
 * overflowing the stack here).
 */
function sortedAndWellFormed(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!sortedAndWellFormed(item, depth + 1)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key of Object.keys(value)) {
    // `<` on strings compares UTF-16 code units, as RFC 8785 §3.2.3 sorts.
    if ((previous !== undefined && !(previous < key)) || !key.isWellFormed()) return false;
    previous = key;
    if (!sortedAndWellFormed((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** The field shapes event hash v1 requires (docs/integrity.md, "The hashed object"). */
function hasV1Shapes(e: Record<string, unknown>): boolean {
  if (e.v !== EVENT_HASH_VERSION) return false;
  if (typeof e.workspace_id !== 'string' || typeof e.id !== 'string' || typeof e.actor_id !== 'string' || typeof e.action !== 'string') return false;
  for (const key of OPTIONAL_TEXT) if (e[key] !== null && typeof e[key] !== 'string') return false;
  if (e.version !== null && typeof e.version !== 'number') return false;
  if (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata) || !Array.isArray(e.targets)) return false;
  if (typeof e.occurred_at !== 'string' || !TIMESTAMP.test(e.occurred_at) || typeof e.created_at !== 'string' || !TIMESTAMP.test(e.created_at)) return false;
  return e.previous_event_hash === null || (typeof e.previous_event_hash === 'string' && HEX_HASH.test(e.previous_event_hash));
}

/** Machine codes of {@link recomputeHashedEvent} failures. */
export type HashedEventProblem = 'not_hashed_object' | 'unhashable';

/**
 * Recomputes the event hash of a hashed object (hex), or says why it cannot: `not_hashed_object`
 * when it lacks or adds members (then the hash would not cover what is shown), `unhashable`
 * when a field has the wrong shape. Already-canonical input is serialised with JSON.stringify
 * directly; anything else through the general RFC 8785 code, with the same result.
 *
 * @example recomputeHashedEvent(line.event) // => { ok: true, hash: '3f0a…' }
 */
export function recomputeHashedEvent(event: unknown): { ok: true; hash: string } | { ok: false; code: HashedEventProblem; message: string } {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { ok: false, code: 'not_hashed_object', message: 'event is not a JSON object' };
  const e = event as Record<string, unknown>;
  const keys = Object.keys(e);
  if (keys.join(',') === KEY_LIST && hasV1Shapes(e) && sortedAndWellFormed(e.metadata) && sortedAndWellFormed(e.targets) && allTextWellFormed(e)) {
    return { ok: true, hash: hash('sha256', JSON.stringify(e), 'hex') };
  }
  const extra = keys.filter((k) => !(HASHED_EVENT_KEYS as readonly string[]).includes(k));
  const missing = HASHED_EVENT_KEYS.filter((k) => !(k in e));
  if (extra.length > 0 || missing.length > 0) {
    return { ok: false, code: 'not_hashed_object', message: `event must be exactly the hashed object of event hash v1${extra.length ? `; unexpected: ${extra.join(', ')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}` };
  }
  if (e.v !== EVENT_HASH_VERSION) return { ok: false, code: 'unhashable', message: `event hash version ${String(e.v)} is not supported (this verifier knows ${EVENT_HASH_VERSION})` };
  try {
    return { ok: true, hash: hash('sha256', eventHashPreimage(e as unknown as ChainedEventFields, e.previous_event_hash as string | null), 'hex') };
  } catch (error) {
    if (error instanceof EventHashError || error instanceof CanonicalJsonError) return { ok: false, code: 'unhashable', message: error.message };
    throw error;
  }
}

function allTextWellFormed(e: Record<string, unknown>): boolean {
  for (const key of HASHED_EVENT_KEYS) {
    const value = e[key];
    if (typeof value === 'string' && !value.isWellFormed()) return false;
  }
  return true;
}
