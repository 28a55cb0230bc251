-- The inbox keeps a batch's events only until they are in the chain, and the database never looks
-- inside them but for their IP addresses. As jsonb, each hand-off (in the transaction a 202 waits
-- for) paid for converting the JSON to jsonb and for compressing it, and each append for
-- converting it back to text. As json (the text the API wrote, its syntax still checked), stored
-- uncompressed, it costs neither (docs/architecture.md, "The inbox keeps JSON text").
ALTER TABLE ingest_batches
  ALTER COLUMN events TYPE json USING events::json,
  ALTER COLUMN events SET STORAGE EXTERNAL;
