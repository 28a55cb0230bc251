-- Search is case-insensitive beyond ASCII (docs/api/events-query.md, "Search").
--
-- The database runs in the C locale, where lower() folds only A-Z: `müller` did not find
-- "MÜLLER", nor `é` "É". The contract's search is PostgreSQL ILIKE, which on a Unicode locale folds
-- every letter. Here the searched text and the term are lowercased by event_search_lower(), with
-- the builtin C.UTF-8 collation where the server has it (PostgreSQL 17 and later): Unicode's simple
-- case mapping, one code point for one, so a text's parts (migration 007) keep their lengths.
-- Older servers lowercase with the database's own collation, as before.
--
-- Idempotent, so a test can apply it again over rows it made stale.

DO $migration$
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION event_search_lower(t text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      RETURN lower(t %s)$f$,
    CASE WHEN current_setting('server_encoding') = 'UTF8' AND EXISTS (SELECT FROM pg_collation WHERE collname = 'pg_c_utf8')
      THEN 'COLLATE pg_c_utf8' ELSE '' END);
END
$migration$;

CREATE OR REPLACE FUNCTION events_search_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_search (workspace_id, seq, part, text)
    SELECT n.workspace_id, n.seq, s.part, s.text
      FROM new_events n
     CROSS JOIN LATERAL event_search_parts(event_search_lower(event_search_text(n.actor_name, n.action, n.resource_name, n.metadata))) AS s;
  RETURN NULL;
END
$$;

-- The rows already stored: lowering the ASCII-lowered text again gives what lowering the original
-- gives, in the same number of characters, so each part is lowered where it stands. Only parts
-- with a letter left to lower are rewritten (none on a server without the collation). The rule
-- that derived rows never change is lifted for this statement only.
ALTER TABLE event_search DISABLE TRIGGER event_search_append_only;
UPDATE event_search SET text = event_search_lower(text) WHERE text <> event_search_lower(text);
ALTER TABLE event_search ENABLE TRIGGER event_search_append_only;
