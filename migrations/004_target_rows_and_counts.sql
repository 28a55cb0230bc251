-- Exact, cheap counts for GET /api/v1/events (docs/api/events-query.md, "Indexes"):
--
-- * event_targets: one row per distinct (type, id) of each event's targets, with B-tree indexes,
--   so that target_type / target_id are answered by index (only) scans in chain order instead of
--   the jsonb GIN index of 002, whose matches all had to be rechecked in the heap.
-- * event_counts: how many events of a workspace carry each value of the filters that can match
--   most of a workspace (action, resource, tenant_id, actor_id, target_type), so a first page's
--   `total` on one of them alone is one row read instead of an index scan of every match.
--
-- Both are derived from events and filled by a trigger in the very transaction (and statement)
-- that inserts the events, so every snapshot sees them exactly in step with `events`. Like
-- events, they are append-only through SQL: triggers refuse changing or removing their rows, and a
-- counter can only grow.

CREATE TABLE event_targets (
  workspace_id uuid NOT NULL,
  seq          bigint NOT NULL,
  type         text NOT NULL,
  id           text
);
-- target_type: matches in chain order; an event with two targets of one type has two entries
-- next to each other, which a DISTINCT on the index order folds into one.
CREATE INDEX event_targets_type ON event_targets (workspace_id, type, seq);
-- target_id, alone or with target_type (the same row, so the same target).
CREATE INDEX event_targets_id ON event_targets (workspace_id, id, seq) INCLUDE (type) WHERE id IS NOT NULL;

CREATE TABLE event_counts (
  workspace_id uuid NOT NULL,
  -- The filter: 'action', 'resource', 'tenant_id', 'actor_id' or 'target_type'.
  name         text NOT NULL,
  value        text NOT NULL,
  -- Events of the workspace with this value, and the chain position of the last one.
  events       bigint NOT NULL,
  through_seq  bigint NOT NULL,
  PRIMARY KEY (workspace_id, name, value)
) WITH (fillfactor = 70);

CREATE FUNCTION events_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_targets (workspace_id, seq, type, id)
    SELECT DISTINCT n.workspace_id, n.seq, t ->> 'type', t ->> 'id'
      FROM new_events n CROSS JOIN LATERAL jsonb_array_elements(n.targets) AS t
     WHERE jsonb_array_length(n.targets) > 0;
  -- An event counts once per value: its target types are made distinct per event.
  -- Sorted by key, so two statements upserting rows of the same workspaces take their row locks
  -- in the same order (appends of one workspace are serialised by its chain head anyway).
  INSERT INTO event_counts AS c (workspace_id, name, value, events, through_seq)
    SELECT workspace_id, name, value, count(*), max(seq)
      FROM (SELECT n.workspace_id, n.seq, v.name, v.value
              FROM new_events n CROSS JOIN LATERAL (VALUES ('action', n.action), ('resource', n.resource), ('tenant_id', n.tenant_id), ('actor_id', n.actor_id)) AS v (name, value)
            UNION ALL
            SELECT DISTINCT n.workspace_id, n.seq, 'target_type', t ->> 'type'
              FROM new_events n CROSS JOIN LATERAL jsonb_array_elements(n.targets) AS t
             WHERE jsonb_array_length(n.targets) > 0) AS v
     WHERE value IS NOT NULL
     GROUP BY workspace_id, name, value
     ORDER BY workspace_id, name, value
  ON CONFLICT (workspace_id, name, value)
    DO UPDATE SET events = c.events + excluded.events, through_seq = greatest(c.through_seq, excluded.through_seq);
  RETURN NULL;
END
$$;
CREATE TRIGGER events_derive AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION events_derive();

-- Derived rows change only with the events they come from: never through SQL.
CREATE TRIGGER event_targets_append_only BEFORE UPDATE OR DELETE ON event_targets
  FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER event_targets_no_truncate BEFORE TRUNCATE ON event_targets
  FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();
-- A counter only ever grows with its workspace's chain (the trigger above); the WHEN clause is
-- evaluated without calling the function, so the increments pay nothing for this guard.
CREATE TRIGGER event_counts_only_grow BEFORE UPDATE ON event_counts
  FOR EACH ROW WHEN (NEW.events < OLD.events OR NEW.through_seq < OLD.through_seq
    OR (NEW.workspace_id, NEW.name, NEW.value) IS DISTINCT FROM (OLD.workspace_id, OLD.name, OLD.value))
  EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER event_counts_no_delete BEFORE DELETE ON event_counts
  FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER event_counts_no_truncate BEFORE TRUNCATE ON event_counts
  FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

-- The events already stored.
INSERT INTO event_targets (workspace_id, seq, type, id)
  SELECT DISTINCT e.workspace_id, e.seq, t ->> 'type', t ->> 'id'
    FROM events e CROSS JOIN LATERAL jsonb_array_elements(e.targets) AS t
   WHERE jsonb_array_length(e.targets) > 0;
INSERT INTO event_counts (workspace_id, name, value, events, through_seq)
  SELECT workspace_id, name, value, count(*), max(seq)
    FROM (SELECT e.workspace_id, e.seq, v.name, v.value
            FROM events e CROSS JOIN LATERAL (VALUES ('action', e.action), ('resource', e.resource), ('tenant_id', e.tenant_id), ('actor_id', e.actor_id)) AS v (name, value)
          UNION ALL
          SELECT DISTINCT workspace_id, seq, 'target_type', type FROM event_targets) AS v
   WHERE value IS NOT NULL
   GROUP BY workspace_id, name, value;

-- Served by event_targets now; one index fewer to maintain on every insert.
DROP INDEX IF EXISTS events_targets;
