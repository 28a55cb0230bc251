/**
 * Anchor records, version 1 (normative text: docs/integrity.md, "Anchoring").
 *
 * One anchor commits to one workspace's events of one UTC day: the RFC 9162 root over their
 * event hashes in chain order, their count and end hashes, and the previous anchor of the
 * same workspace. The anchor's own hash is the leaf input of that day's global tree, whose
 * root goes on chain. Keeping the record small and canonical means anyone holding it can
 * recompute the hash that the global proof starts from.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

export const ANCHOR_RECORD_VERSION = 1;

/** The hashed anchor record: exactly these nine members, always all present. */
export interface AnchorRecord {
  v: typeof ANCHOR_RECORD_VERSION;
  workspace_id: string;
  /** Inclusive start of the UTC day, `2026-03-15T00:00:00.000000Z`. */
  period_start: string;
  /** Exclusive end: the next day's start. */
  period_end: string;
  events_count: number;
  /** RFC 9162 root over the day's event hashes in chain order (hex). */
  merkle_root: string;
  first_event_hash: string;
  last_event_hash: string;
  /** Hash of the workspace's previous anchor record; null for its first anchor. */
  previous_anchor_hash: string | null;
}

/** Machine codes of an anchor record that cannot be hashed. */
export type AnchorRecordErrorCode = 'invalid_anchor_record';

/** Thrown by {@link anchorRecordHash} for a record of the wrong shape; `code` says why. */
export class AnchorRecordError extends TypeError {
  readonly code: AnchorRecordErrorCode = 'invalid_anchor_record';
  constructor(message: string) {
    super(message);
    this.name = 'AnchorRecordError';
  }
}

const HEX_HASH = /^[0-9a-f]{64}$/;
const DAY_START = /^\d{4}-\d{2}-\d{2}T00:00:00\.000000Z$/;

function checkRecord(record: AnchorRecord): void {
  const problems: string[] = [];
  if (record.v !== ANCHOR_RECORD_VERSION) problems.push(`v must be ${ANCHOR_RECORD_VERSION}`);
  if (typeof record.workspace_id !== 'string' || record.workspace_id === '') problems.push('workspace_id must be a non-empty string');
  for (const key of ['period_start', 'period_end'] as const) {
    if (typeof record[key] !== 'string' || !DAY_START.test(record[key])) problems.push(`${key} must be a UTC day start like 2026-03-15T00:00:00.000000Z`);
  }
  if (!Number.isSafeInteger(record.events_count) || record.events_count < 1) problems.push('events_count must be a positive integer');
  for (const key of ['merkle_root', 'first_event_hash', 'last_event_hash'] as const) {
    if (typeof record[key] !== 'string' || !HEX_HASH.test(record[key])) problems.push(`${key} must be 64 lowercase hex characters`);
  }
  if (record.previous_anchor_hash !== null && (typeof record.previous_anchor_hash !== 'string' || !HEX_HASH.test(record.previous_anchor_hash))) {
    problems.push('previous_anchor_hash must be 64 lowercase hex characters or null');
  }
  if (problems.length > 0) throw new AnchorRecordError(`anchor record is malformed: ${problems.join('; ')}`);
}

/** The record with exactly its nine members, whatever else the caller's object carries. */
export function pickAnchorRecord(source: AnchorRecord): AnchorRecord {
  return {
    v: source.v,
    workspace_id: source.workspace_id,
    period_start: source.period_start,
    period_end: source.period_end,
    events_count: source.events_count,
    merkle_root: source.merkle_root,
    first_event_hash: source.first_event_hash,
    last_event_hash: source.last_event_hash,
    previous_anchor_hash: source.previous_anchor_hash,
  };
}

/**
 * Anchor hash v1: lowercase hex SHA-256 of the UTF-8 bytes of the RFC 8785 canonical JSON
 * of the record's nine members. It links the workspace's anchors (previous_anchor_hash)
 * and is the leaf input of the day's global tree. Throws an {@link AnchorRecordError} for
 * a malformed record, so a bad record can never be anchored.
 *
 * @example anchorRecordHash({ v: 1, workspace_id, period_start, ... }) // => '9c1e…' (64 hex)
 */
export function anchorRecordHash(record: AnchorRecord): string {
  const picked = pickAnchorRecord(record);
  checkRecord(picked);
  return hash('sha256', canonicalJson(picked), 'hex');
}

/** The UTC day `YYYY-MM-DD` as the period of an anchor, or undefined for a malformed date. */
export function dayPeriod(day: string): { period_start: string; period_end: string } | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== day) return undefined;
  return { period_start: dayStart(start), period_end: dayStart(start + 86_400_000) };
}

function dayStart(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19)}.000000Z`;
}

/** The `YYYY-MM-DD` of an epoch day number. */
export function dayOfEpochDay(epochDayNumber: number): string {
  return new Date(epochDayNumber * 86_400_000).toISOString().slice(0, 10);
}
