-- Indexes for GET /api/v1/events. Each was chosen from EXPLAIN ANALYZE on a 1M-event data set
-- (bench/query.ts); the measured plans are in docs/api/events-query.md. Every index slows
-- ingestion, so a filter gets one only when no other index serves it well.
--
-- Equality filters get (workspace_id, column, seq): one range scan answers filter, chain order,
-- cursor and from/to (which the query turns into a seq range), and the count is an index-only scan.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- What a search looks in: actor name, action, resource name and the metadata's JSON text.
-- Newlines separate the fields, so a search (which may not contain control characters) never
-- matches across two of them. Inlined by the planner, so queries match the index expression.
-- Changing this function means rebuilding events_search.
CREATE FUNCTION event_search_text(actor_name text, action text, resource_name text, metadata jsonb)
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce(actor_name, '') || E'\n' || action || E'\n' || coalesce(resource_name, '') || E'\n' || metadata::text;

-- from/to: finds the first and last chain position of a time range (also serves verify's from and
-- anchoring, whose migration 003 asks for this same index by name, IF NOT EXISTS).
CREATE INDEX events_created ON events (workspace_id, created_at);

CREATE INDEX events_session ON events (workspace_id, session_id, seq);
CREATE INDEX events_actor ON events (workspace_id, actor_id, seq);
CREATE INDEX events_tenant ON events (workspace_id, tenant_id, seq);
-- action exact, and action prefix (document.*) as a range: the database runs in the C locale.
CREATE INDEX events_action ON events (workspace_id, action, seq);
-- resource, resource + resource_id, and resource_id alone (a skip scan over the few resource types).
CREATE INDEX events_resource ON events (workspace_id, resource, resource_id, seq);

-- target_type / target_id: jsonb containment of one target object. workspace_id is a GIN key too
-- (btree_gin), so a common target type in a small workspace never reads other workspaces' rows.
CREATE INDEX events_targets ON events USING gin (workspace_id, targets jsonb_path_ops);

-- search: trigram matching of ILIKE '%…%', scoped to the workspace the same way.
CREATE INDEX events_search ON events USING gin (workspace_id, event_search_text(actor_name, action, resource_name, metadata) gin_trgm_ops);
