-- Daily anchoring (docs/integrity.md, "Anchoring"): one anchor run per UTC day carrying the
-- global root in one transaction, and one anchor per workspace that had events that day.

-- Which events of a workspace fall in a day, and where the next day to anchor starts. The
-- query indexes (002) create the same index; IF NOT EXISTS keeps anchoring working if that
-- set is ever pruned.
CREATE INDEX IF NOT EXISTS events_created ON events (workspace_id, created_at);

-- Event hashes by chain position, read with index-only scans: a proof reads the hashes of one
-- run of 256 events, and building a day's tree reads all of them. From the heap, each hash
-- would cost a page read (a workspace's events are spread over the table among everyone
-- else's); from this index they sit side by side.
CREATE INDEX events_hash_by_seq ON events (workspace_id, seq) INCLUDE (event_hash);

CREATE TABLE anchor_runs (
  id            uuid PRIMARY KEY,
  period_start  timestamptz NOT NULL UNIQUE,
  period_end    timestamptz NOT NULL,
  global_root   bytea NOT NULL,
  anchors_count integer NOT NULL CHECK (anchors_count > 0),
  chain         text NOT NULL,
  chain_id      bigint NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'submitted', 'confirmed', 'failed')),
  -- The last problem met (chain unreachable, transaction dropped, ...); cleared once confirmed.
  error         text,
  attempts      integer NOT NULL DEFAULT 0,
  -- The one transaction: signed once with a fixed nonce and stored before it is broadcast,
  -- so a retry can only ever re-send these exact bytes.
  signer        bytea,
  nonce         bigint,
  raw_tx        bytea,
  tx_hash       bytea,
  -- Hash of block 0 of the chain the transaction was signed for: a different genesis means a
  -- development chain was restarted and the signed transaction can never be mined there.
  genesis_hash  bytea,
  block_number  bigint,
  block_hash    bytea,
  -- Transactions given up because they provably can never be mined (nonce used by another
  -- transaction, or the chain they were signed for is gone), newest last.
  abandoned_txs jsonb NOT NULL DEFAULT '[]',
  -- Since when the stored transaction has looked impossible to mine (its nonce used by another
  -- transaction); it is abandoned only once that has held for a while, so one lagging RPC
  -- backend cannot make us sign a second transaction.
  unminable_since timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  submitted_at  timestamptz,
  confirmed_at  timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (period_end > period_start),
  CHECK (raw_tx IS NULL OR (tx_hash IS NOT NULL AND nonce IS NOT NULL AND signer IS NOT NULL))
);
CREATE UNIQUE INDEX anchor_runs_tx_hash ON anchor_runs (tx_hash) WHERE tx_hash IS NOT NULL;
CREATE INDEX anchor_runs_open ON anchor_runs (signer, nonce) WHERE status <> 'confirmed';

CREATE TABLE anchors (
  id                   uuid PRIMARY KEY,
  run_id               uuid NOT NULL REFERENCES anchor_runs (id),
  workspace_id         uuid NOT NULL REFERENCES workspaces (id),
  period_start         timestamptz NOT NULL,
  period_end           timestamptz NOT NULL,
  events_count         integer NOT NULL CHECK (events_count > 0),
  first_seq            bigint NOT NULL,
  last_seq             bigint NOT NULL,
  merkle_root          bytea NOT NULL,
  first_event_hash     bytea NOT NULL,
  last_event_hash      bytea NOT NULL,
  previous_anchor_id   uuid REFERENCES anchors (id),
  previous_anchor_hash bytea,
  -- SHA-256 of the canonical anchor record: the leaf input of the day's global tree.
  anchor_hash          bytea NOT NULL,
  -- Concatenated 32-byte roots of each run of 256 leaves, so a proof reads one run of events.
  subtree_roots        bytea NOT NULL,
  global_index         integer NOT NULL,
  -- Concatenated 32-byte audit path from this anchor's leaf to the global root.
  global_path          bytea NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, period_start),
  UNIQUE (run_id, global_index),
  CHECK (last_seq - first_seq + 1 = events_count),
  CHECK (octet_length(subtree_roots) = 32 * ((events_count + 255) / 256))
);
CREATE INDEX anchors_workspace_recent ON anchors (workspace_id, period_start DESC);
