-- Search reads a compact copy of each event's searched text, kept in chain order per workspace,
-- instead of a trigram index (docs/api/events-query.md, "Search").
--
-- A search must return an exact `total`. With the trigram index of 002, a common term (one in 84%
-- of a 193k-event workspace) had every match rechecked in the events heap: ~400 ms, because a
-- workspace's rows lie on nearly every page of the table. The trigram index was also ~65% of an
-- append's statement time and ~68% of its WAL. Here each event's text is lowercased once, when it
-- is appended, into event_search, and a covering B-tree on (workspace_id, seq, part) holds it: a
-- search is an index-only scan of one contiguous range of that index, ~0.25 µs per event, whatever
-- the term, and the same range scan in chain order yields a page.
--
-- A B-tree entry must stay under ~2.7 kB, and an event's text can run to 20 kB and more (16 kB of
-- metadata, which jsonb prints with spaces, and two 1,024-character names), so long texts are
-- stored in parts of 600 characters (at most 2,400 bytes of UTF-8) that overlap by 199: any search of up to 200 characters (the API's limit,
-- api/events/query-schema.ts) lies whole inside one part. Almost every event has one part.

CREATE TABLE event_search (
  workspace_id uuid NOT NULL,
  seq          bigint NOT NULL,
  part         smallint NOT NULL,
  -- lower(event_search_text(...)): the case-insensitive match is `strpos(text, lower(term)) > 0`.
  text         text NOT NULL
) WITH (
  -- Index-only scans skip the heap only on pages vacuum has marked all-visible; the table only
  -- grows, so vacuum it after every 1% of new rows rather than the default 20%.
  autovacuum_vacuum_insert_scale_factor = 0.01
);

-- The parts of one already lowercased text: part k holds characters 401k+1 .. 401k+600.
CREATE FUNCTION event_search_parts(lowered text) RETURNS TABLE (part smallint, text text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT k::smallint, substr(lowered, k * 401 + 1, 600)
    FROM generate_series(0, greatest(0, ceil((length(lowered) - 600) / 401.0)::integer)) AS k;
END;

-- Filled by the very statement that appends the events (as event_targets is, migration 004), so
-- every snapshot sees a workspace's search rows exactly in step with its events.
CREATE FUNCTION events_search_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_search (workspace_id, seq, part, text)
    SELECT n.workspace_id, n.seq, s.part, s.text
      FROM new_events n
     CROSS JOIN LATERAL event_search_parts(lower(event_search_text(n.actor_name, n.action, n.resource_name, n.metadata))) AS s;
  RETURN NULL;
END
$$;
CREATE TRIGGER events_search_rows AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION events_search_rows();

-- Derived rows change only with the events they come from: never through SQL.
CREATE TRIGGER event_search_append_only BEFORE UPDATE OR DELETE ON event_search
  FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER event_search_no_truncate BEFORE TRUNCATE ON event_search
  FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

-- The events already stored; the index is built once they are in. On the benchmark's 1M events
-- this whole migration took 7.4 s. Appends wait for it (the trigger's creation locks out inserts
-- into events until it commits); the API keeps accepting events into the inbox meanwhile.
INSERT INTO event_search (workspace_id, seq, part, text)
  SELECT e.workspace_id, e.seq, s.part, s.text
    FROM events e
   CROSS JOIN LATERAL event_search_parts(lower(event_search_text(e.actor_name, e.action, e.resource_name, e.metadata))) AS s;
CREATE UNIQUE INDEX event_search_scan ON event_search (workspace_id, seq, part) INCLUDE (text);

-- Replaced by event_search: one index fewer, and the costliest, to maintain on every append.
DROP INDEX IF EXISTS events_search;
