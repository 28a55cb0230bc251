/** Storage helpers over PostgreSQL, shared by the API, the worker and the CLI. */
export { createPool, inTransaction, isoFromPgTimestamp, type Pool, type PoolClient, type PoolOptions } from './pool.ts';
export { migrate, MIGRATIONS_DIR, type AppliedMigration } from './migrate.ts';
export { createWorkspace, findWorkspace, listWorkspaces, type Workspace } from './workspaces.ts';
export {
  apiKeyDigest, authenticateApiKey, createApiKey, grants, listApiKeys, PERMISSIONS, recordApiKeyUse, revokeApiKey,
  type ApiKeyRecord, type CreatedApiKey, type Permission, type Principal,
} from './api-keys.ts';
export { findPendingBatches, isQueued, KeysRevoked, writeInboxBatch, type InboxWrite, type PendingBatch, type Receipt, type ReceiptStatus } from './inbox.ts';
export { chainHead, EVENT_COLUMNS, EVENT_ROW_COLUMNS, eventFromRow, eventsAfter, INSERT_EVENT_ROWS, seqBefore, type StoredEvent } from './events.ts';
export { escapeLike, eventPageStatements, findEvent, queryEvents, runEventPage, type ActionFilter, type EventFilter, type EventPage, type EventPageRequest, type MatchCount, type Statement } from './event-query.ts';
export {
  anchorRecordOf, anchorsOfRun, findAnchor, findEventProofData, findRun, findRunByPeriod, findRunByTxHash,
  findStoredAnchor, latestRun, listAnchors, previousAnchorOf, type AnchorRun, type AnchorWithRun, type EventProofData, type StoredAnchor,
} from './anchors.ts';
