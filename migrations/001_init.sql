-- Workspaces, API keys, the ingestion inbox, the per-workspace hash chain.

CREATE TABLE workspaces (
  id         uuid PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored only as a SHA-256 hash plus a short, unique lookup prefix.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspaces (id),
  name         text NOT NULL,
  prefix       text NOT NULL UNIQUE,
  secret_hash  bytea NOT NULL,
  permissions  text[] NOT NULL CHECK (permissions <@ ARRAY['ingest', 'read', 'admin']),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

-- The serialisation point of each workspace's chain: appends lock this row.
CREATE TABLE chain_heads (
  workspace_id uuid PRIMARY KEY REFERENCES workspaces (id),
  seq          bigint NOT NULL DEFAULT 0,
  event_hash   bytea,
  created_at   timestamptz
);

-- The durable hand-off: one row per group-committed batch, written before the API answers 202.
-- The events payload is cleared once the batch is in the chain.
CREATE TABLE ingest_batches (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspaces (id),
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'appended')),
  events_count integer NOT NULL,
  event_ids    uuid[],
  events       jsonb,
  received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  appended_at  timestamptz,
  first_seq    bigint,
  last_seq     bigint
);
CREATE INDEX ingest_batches_pending ON ingest_batches (workspace_id, received_at) WHERE status = 'pending';

CREATE TABLE idempotency_keys (
  workspace_id uuid NOT NULL,
  key          text NOT NULL,
  event_id     uuid NOT NULL,
  batch_id     uuid NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, key)
);

CREATE TABLE events (
  workspace_id        uuid NOT NULL,
  seq                 bigint NOT NULL,
  id                  uuid NOT NULL,
  batch_id            uuid NOT NULL,
  actor_id            text NOT NULL,
  actor_name          text,
  actor_type          text,
  action              text NOT NULL,
  action_category     text,
  resource            text,
  resource_id         text,
  resource_name       text,
  metadata            jsonb NOT NULL,
  targets             jsonb NOT NULL,
  tenant_id           text,
  session_id          text,
  idempotency_key     text,
  version             integer,
  ip_address          text,
  ip_country          text,
  ip_city             text,
  user_agent          text,
  occurred_at         timestamptz NOT NULL,
  created_at          timestamptz NOT NULL,
  event_hash          bytea NOT NULL,
  previous_event_hash bytea,
  PRIMARY KEY (workspace_id, seq)
);
CREATE UNIQUE INDEX events_id ON events (id);

-- Append-only: no row of the chain may be changed or removed through SQL.
CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();
