import { isIP } from 'node:net';
import { z } from 'zod';
import type { Target } from './event-hash.ts';
import { normalizeTimestamp } from './time.ts';

/** Documented size limits of an event (docs/api.md). */
export const EVENT_LIMITS = {
  idLength: 255,
  nameLength: 1024,
  userAgentLength: 2048,
  metadataBytes: 16 * 1024,
  metadataDepth: 8,
  targets: 50,
  targetMetadataBytes: 4 * 1024,
  batchEvents: 100,
} as const;

const VERSION_MAX = 2_147_483_647;

/** PostgreSQL cannot store U+0000, and a lone surrogate cannot be encoded as UTF-8. */
function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\u0000');
}
const STORABLE_MESSAGE = 'must be valid Unicode text without NUL characters';

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`).refine(isStorableText, STORABLE_MESSAGE);
const requiredId = text(EVENT_LIMITS.idLength).min(1, 'must not be empty');
const optional = <T extends z.ZodType>(schema: T) => schema.nullish();

/** Checks a JSON object's keys and strings, its depth and its encoded size, in one walk. */
function jsonObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const problem = storableJsonProblem(value, 1);
    if (problem) { ctx.addIssue({ code: 'custom', message: problem }); return; }
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if (bytes > maxBytes) ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes as JSON (got ${bytes})` });
  });
}

function storableJsonProblem(value: unknown, depth: number): string | undefined {
  if (depth > EVENT_LIMITS.metadataDepth) return `must be nested at most ${EVENT_LIMITS.metadataDepth} levels deep`;
  if (typeof value === 'string') return isStorableText(value) ? undefined : `strings ${STORABLE_MESSAGE}`;
  if (Array.isArray(value)) {
    for (const item of value) { const p = storableJsonProblem(item, depth + 1); if (p) return p; }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key)) return `keys ${STORABLE_MESSAGE}`;
      const p = storableJsonProblem(item, depth + 1); if (p) return p;
    }
  }
  return undefined;
}

const targetSchema = z.strictObject({
  type: requiredId,
  id: optional(text(EVENT_LIMITS.idLength)),
  name: optional(text(EVENT_LIMITS.nameLength)),
  metadata: optional(jsonObject(EVENT_LIMITS.targetMetadataBytes)),
});

/** The body of `POST /api/v1/events`, and each item of a batch. Unknown fields are rejected. */
export const eventInputSchema = z.strictObject({
  actor_id: requiredId,
  actor_name: optional(text(EVENT_LIMITS.nameLength)),
  actor_type: optional(text(EVENT_LIMITS.idLength)),
  action: requiredId,
  action_category: optional(text(EVENT_LIMITS.idLength)),
  resource: optional(text(EVENT_LIMITS.idLength)),
  resource_id: optional(text(EVENT_LIMITS.idLength)),
  resource_name: optional(text(EVENT_LIMITS.nameLength)),
  metadata: optional(jsonObject(EVENT_LIMITS.metadataBytes)),
  targets: optional(z.array(targetSchema).max(EVENT_LIMITS.targets, `must have at most ${EVENT_LIMITS.targets} items`)),
  // Normalised here, once: the parse that checks it also gives the canonical form.
  occurred_at: optional(z.string().max(64).transform((s, ctx) => {
    const normalized = normalizeTimestamp(s);
    if (normalized !== undefined) return normalized;
    ctx.issues.push({ code: 'custom', message: 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-03-15T14:32:18.847312Z', input: s });
    return z.NEVER;
  })),
  session_id: optional(text(EVENT_LIMITS.idLength)),
  tenant_id: optional(text(EVENT_LIMITS.idLength)),
  idempotency_key: optional(requiredId),
  version: optional(z.number().int('must be an integer').min(-VERSION_MAX - 1).max(VERSION_MAX)),
  ip_address: optional(z.string().max(64).refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address')),
  user_agent: optional(text(EVENT_LIMITS.userAgentLength)),
});

/** The body of `POST /api/v1/events/batch`. */
export const batchInputSchema = z.strictObject({
  events: z.array(z.unknown()).min(1, 'must contain at least one event')
    .max(EVENT_LIMITS.batchEvents, `must contain at most ${EVENT_LIMITS.batchEvents} events`),
});

export type EventInput = z.infer<typeof eventInputSchema>;

/**
 * An event as accepted by the API and written to the inbox: every optional field present (null
 * when absent), an id assigned, `occurred_at` normalised. The chain adds workspace, geo,
 * `created_at` and hashes when it appends it.
 */
export interface AcceptedEvent {
  id: string;
  actor_id: string; actor_name: string | null; actor_type: string | null;
  action: string; action_category: string | null;
  resource: string | null; resource_id: string | null; resource_name: string | null;
  metadata: Record<string, unknown>;
  targets: Target[];
  tenant_id: string | null; session_id: string | null; idempotency_key: string | null;
  version: number | null;
  ip_address: string | null; user_agent: string | null;
  occurred_at: string;
}

function withoutNulls(target: z.infer<typeof targetSchema>): Target {
  const out: Target = { type: target.type };
  if (target.id != null) out.id = target.id;
  if (target.name != null) out.name = target.name;
  if (target.metadata != null) out.metadata = target.metadata;
  return out;
}

/**
 * Turns a validated input into the event the inbox keeps. `receivedAt` (canonical timestamp)
 * stands in for a missing `occurred_at`.
 */
export function acceptEvent(input: EventInput, id: string, receivedAt: string): AcceptedEvent {
  return {
    id,
    actor_id: input.actor_id, actor_name: input.actor_name ?? null, actor_type: input.actor_type ?? null,
    action: input.action, action_category: input.action_category ?? null,
    resource: input.resource ?? null, resource_id: input.resource_id ?? null, resource_name: input.resource_name ?? null,
    metadata: input.metadata ?? {},
    targets: (input.targets ?? []).map(withoutNulls),
    tenant_id: input.tenant_id ?? null, session_id: input.session_id ?? null, idempotency_key: input.idempotency_key ?? null,
    version: input.version ?? null,
    ip_address: input.ip_address ?? null, user_agent: input.user_agent ?? null,
    occurred_at: input.occurred_at ?? receivedAt,
  };
}

/** A validation problem, located by a JSON path such as `events[3].actor_id`. */
export interface FieldProblem { path: string; message: string }

/** Renders a zod issue path (`['events', 3, 'actor_id']`) as `events[3].actor_id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) =>
    typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part), '');
}

/**
 * Parse options for a body whose problems {@link fieldProblems} will describe: with them, an issue
 * carries the value it is about, so a field of the wrong type is told from a missing one.
 */
export const REPORT_INPUT = { reportInput: true } as const;

/** What zod's `expected` types are called in an error message. */
const TYPE_NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', boolean: 'a boolean', array: 'an array',
  object: 'a JSON object', record: 'a JSON object',
};

/** A JSON value's kind, as an error message names what it got. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'a JSON object' : TYPE_NAMES[typeof value] ?? typeof value;
}

/**
 * Every problem zod found, with readable paths; the first names the first failing field. Parsed
 * with {@link REPORT_INPUT}, a field of the wrong type says what it must be and what it got.
 */
export function fieldProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return { path: formatPath([...path, issue.keys[0]!]), message: `is not a known field (${issue.keys.join(', ')})` };
    }
    let message = issue.message;
    // (A fraction where an integer is due keeps the schema's own message.)
    if (issue.code === 'invalid_type' && 'input' in issue && !(issue.expected === 'int' && typeof issue.input === 'number')) {
      message = issue.input === undefined ? 'is required' : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, not ${kindOf(issue.input)}`;
    }
    return { path: formatPath(path) || '(body)', message };
  });
}
