/** Deterministic orchestration only: this file is the entry of the workflow bundle. */
export { ingestBatch } from './ingest-batch.ts';
export { recoverStrandedBatches } from './recovery.ts';
export { anchorClosedDays, anchorDay } from './anchor-day.ts';
