import type { Target } from '../../core/mod.ts';
import type { EventPage, StoredEvent } from '../../store/mod.ts';
import { encodeCursor } from './cursor.ts';

/** An event as the API shows it (the contract's nested shape, as in the seeds). */
export interface PublicEvent {
  id: string;
  actor: { id: string; name: string | null; type: string | null };
  action: string;
  action_category: string | null;
  resource: { type: string | null; id: string | null; name: string | null };
  targets: Target[];
  metadata: Record<string, unknown>;
  tenant_id: string | null;
  session_id: string | null;
  ip_address: string | null;
  ip_country: string | null;
  ip_city: string | null;
  user_agent: string | null;
  idempotency_key: string | null;
  version: number | null;
  integrity: { event_hash: string; previous_event_hash: string | null };
  occurred_at: string;
  created_at: string;
}

/**
 * Turns a stored row into the public shape. Storage details (workspace, chain position, batch)
 * stay private: the chain position is reachable only through opaque cursors, so it can change
 * meaning later without breaking clients. Targets keep the order the client sent them in, which
 * is part of the hashed record (e.g. a move's source before its destination).
 *
 * ```ts
 * ctx.body = { data: presentEvent(event) };
 * ```
 */
export function presentEvent(event: StoredEvent): PublicEvent {
  return {
    id: event.id,
    actor: { id: event.actor_id, name: event.actor_name, type: event.actor_type },
    action: event.action,
    action_category: event.action_category,
    resource: { type: event.resource, id: event.resource_id, name: event.resource_name },
    targets: event.targets,
    metadata: event.metadata,
    tenant_id: event.tenant_id,
    session_id: event.session_id,
    ip_address: event.ip_address,
    ip_country: event.ip_country,
    ip_city: event.ip_city,
    user_agent: event.user_agent,
    idempotency_key: event.idempotency_key,
    version: event.version,
    integrity: { event_hash: event.event_hash, previous_event_hash: event.previous_event_hash },
    occurred_at: event.occurred_at,
    created_at: event.created_at,
  };
}

/** A page of `GET /api/v1/events` as the API answers it. */
export interface PublicPage {
  data: PublicEvent[];
  pagination: { has_more: boolean; next_cursor: string | null; total: number };
}

/** Presents `page` of the query `fingerprint` identifies (see cursor.ts), with the cursor that continues it. */
export function presentPage(page: EventPage, fingerprint: string): PublicPage {
  const last = page.events.at(-1);
  return {
    data: page.events.map(presentEvent),
    pagination: {
      has_more: page.hasMore,
      next_cursor: page.hasMore && last ? encodeCursor({ afterSeq: last.seq, counted: page.count }, fingerprint) : null,
      total: page.count.total,
    },
  };
}
