-- The geo step of every batch needs only its events' IP addresses. Extracting them from the inbox's
-- JSON text made PostgreSQL parse the whole batch: 25–34 µs of its CPU per event in the ingest
-- benchmark's batch phase (docs/architecture.md, "The geo step reads addresses").
-- The API now writes them beside the events, in event order (NULL for an event without one), and
-- the append clears them with the events. Batches handed off before this migration have none here:
-- their addresses are still read from the JSON.
ALTER TABLE ingest_batches ADD COLUMN ip_addresses text[];
