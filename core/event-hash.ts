/**
 * Event hash, version 1 (normative text: docs/integrity.md, "Event hash v1").
 *
 * The hash covers every stored field of an event plus the previous event's hash, so
 * that editing any column, or re-linking the chain, is detectable offline by anyone
 * holding an export. Changing what goes into the preimage means a new version number.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

export const EVENT_HASH_VERSION = 1;

export interface Target {
  type: string;
  id?: string;
  name?: string;
  metadata?: Record<string, unknown>;
}

/** Every stored field of an event, as stored (optional fields are null, never absent). */
export interface ChainedEventFields {
  workspace_id: string;
  id: string;
  actor_id: string;
  actor_name: string | null;
  actor_type: string | null;
  action: string;
  action_category: string | null;
  resource: string | null;
  resource_id: string | null;
  resource_name: string | null;
  /** `{}` when the client sent none. */
  metadata: Record<string, unknown>;
  /** `[]` when none; order as sent; a target's absent keys stay absent. */
  targets: Target[];
  tenant_id: string | null;
  session_id: string | null;
  idempotency_key: string | null;
  version: number | null;
  ip_address: string | null;
  ip_country: string | null;
  ip_city: string | null;
  user_agent: string | null;
  /** ISO 8601 UTC with exactly 6 fractional digits and 'Z': 2026-03-15T14:32:18.847312Z */
  occurred_at: string;
  /** Same format as occurred_at. */
  created_at: string;
}

/** Machine codes carried by {@link EventHashError}. */
export type EventHashErrorCode = 'invalid_field' | 'invalid_timestamp' | 'invalid_previous_hash';

/** Thrown when the fields cannot be hashed under version 1; `code` says why. */
export class EventHashError extends TypeError {
  readonly code: EventHashErrorCode;
  constructor(code: EventHashErrorCode, message: string) {
    super(message);
    this.name = 'EventHashError';
    this.code = code;
  }
}

/** The preimage object: exactly the stored fields, the link, and the version. */
interface EventHashInputV1 extends ChainedEventFields {
  previous_event_hash: string | null;
  v: typeof EVENT_HASH_VERSION;
}

type FieldKind = 'string' | 'string?' | 'number?' | 'object' | 'array' | 'timestamp';

/**
 * The shape each field must have. Checking it is cheap and turns the classic mistakes
 * (a `Date` or millisecond timestamp, `undefined` for a missing optional, a numeric
 * column read back as a string) into an error at write time instead of a hash nobody
 * else can reproduce.
 */
const FIELD_KINDS: Readonly<Record<keyof ChainedEventFields, FieldKind>> = {
  workspace_id: 'string',
  id: 'string',
  actor_id: 'string',
  actor_name: 'string?',
  actor_type: 'string?',
  action: 'string',
  action_category: 'string?',
  resource: 'string?',
  resource_id: 'string?',
  resource_name: 'string?',
  metadata: 'object',
  targets: 'array',
  tenant_id: 'string?',
  session_id: 'string?',
  idempotency_key: 'string?',
  version: 'number?',
  ip_address: 'string?',
  ip_country: 'string?',
  ip_city: 'string?',
  user_agent: 'string?',
  occurred_at: 'timestamp',
  created_at: 'timestamp',
};

const TIMESTAMP_V1 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const EVENT_HASH_HEX = /^[0-9a-f]{64}$/;

function checkField(name: string, kind: FieldKind, value: unknown): void {
  let ok: boolean;
  switch (kind) {
    case 'string': ok = typeof value === 'string'; break;
    case 'string?': ok = value === null || typeof value === 'string'; break;
    case 'number?': ok = value === null || typeof value === 'number'; break;
    case 'object': ok = typeof value === 'object' && value !== null && !Array.isArray(value); break;
    case 'array': ok = Array.isArray(value); break;
    case 'timestamp': ok = typeof value === 'string' && TIMESTAMP_V1.test(value); break;
  }
  if (ok) return;
  if (kind === 'timestamp') {
    throw new EventHashError(
      'invalid_timestamp',
      `${name} must be an ISO 8601 UTC string with exactly 6 fractional digits, like 2026-03-15T14:32:18.847312Z; got ${describe(value)}`,
    );
  }
  const expected = { string: 'a string', 'string?': 'a string or null', 'number?': 'a number or null', object: 'a JSON object', array: 'an array' }[kind];
  const hint = value === undefined && kind.endsWith('?') ? ' (optional fields must be null, not absent)' : '';
  throw new EventHashError('invalid_field', `${name} must be ${expected}; got ${describe(value)}${hint}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (value instanceof Date) return 'a Date object';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `a ${typeof value}`;
}

// docs/integrity.md, "Event hash v1": the keys are picked one by one so that extra
// columns on a database row never leak into the hash.
function buildHashInputV1(fields: ChainedEventFields, previousEventHash: string | null): EventHashInputV1 {
  if (previousEventHash !== null && (typeof previousEventHash !== 'string' || !EVENT_HASH_HEX.test(previousEventHash))) {
    throw new EventHashError(
      'invalid_previous_hash',
      `previous_event_hash must be 64 lowercase hex characters or null; got ${describe(previousEventHash)}`,
    );
  }
  const input: EventHashInputV1 = {
    workspace_id: fields.workspace_id,
    id: fields.id,
    actor_id: fields.actor_id,
    actor_name: fields.actor_name,
    actor_type: fields.actor_type,
    action: fields.action,
    action_category: fields.action_category,
    resource: fields.resource,
    resource_id: fields.resource_id,
    resource_name: fields.resource_name,
    metadata: fields.metadata,
    targets: fields.targets,
    tenant_id: fields.tenant_id,
    session_id: fields.session_id,
    idempotency_key: fields.idempotency_key,
    version: fields.version,
    ip_address: fields.ip_address,
    ip_country: fields.ip_country,
    ip_city: fields.ip_city,
    user_agent: fields.user_agent,
    occurred_at: fields.occurred_at,
    created_at: fields.created_at,
    previous_event_hash: previousEventHash,
    v: EVENT_HASH_VERSION,
  };
  for (const name in FIELD_KINDS) {
    const key = name as keyof ChainedEventFields;
    checkField(key, FIELD_KINDS[key], input[key]);
  }
  return input;
}

/**
 * The exact string that event hash v1 digests: the RFC 8785 canonical JSON of the
 * event's stored fields plus `previous_event_hash` (null for a workspace's first event)
 * and `"v":1`. Keys not in {@link ChainedEventFields} are ignored, so a database row can
 * be passed as is. Throws an {@link EventHashError} for fields of the wrong shape
 * (e.g. a millisecond timestamp) and a CanonicalJsonError for non-JSON values.
 *
 * @example eventHashPreimage(row, null) // => '{"action":"user.login",...,"v":1,"version":null,"workspace_id":"ws_1"}'
 */
export function eventHashPreimage(fields: ChainedEventFields, previousEventHash: string | null): string {
  return canonicalJson(buildHashInputV1(fields, previousEventHash));
}

/**
 * Event hash v1: lowercase hex SHA-256 of the UTF-8 bytes of
 * {@link eventHashPreimage}. Pass the previous event's `event_hash` in chain order, or
 * null for the first event of a workspace.
 *
 * @example computeEventHash(row, previous.event_hash) // => '3f0a…' (64 lowercase hex)
 */
export function computeEventHash(fields: ChainedEventFields, previousEventHash: string | null): string {
  return hash('sha256', eventHashPreimage(fields, previousEventHash), 'hex');
}
