import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from '../../log/mod.ts';
import { writeInboxBatch } from '../../store/mod.ts';
import { startIngestWorkflow } from '../../workflows/client.ts';
import { unavailable } from '../errors.ts';
import type { HandOff } from './group-commit.ts';

export interface HandOffDeps { pool: pg.Pool; temporal: Client; taskQueue: string; log: Logger }

/**
 * The durable hand-off of one group: the inbox transaction, then the batch's workflow. Once the
 * transaction commits the events are durable, so a failed workflow start is logged and left to
 * the recovery sweep rather than turned into an error. A failed transaction is a 503: nothing
 * was kept and a retry is safe.
 */
export function createHandOff({ pool, temporal, taskQueue, log }: HandOffDeps): HandOff {
  return async (workspaceId, events) => {
    const batchId = crypto.randomUUID();
    let write;
    try {
      write = await writeInboxBatch(pool, batchId, workspaceId, events);
    } catch (error) {
      log.error('hand-off failed', { workspaceId, batchId, events: events.length, error });
      throw unavailable('The events could not be stored durably; nothing was accepted. Retry the request.');
    }
    if (write.stored > 0) {
      try {
        await startIngestWorkflow(temporal, taskQueue, { batchId, workspaceId });
      } catch (error) {
        log.warn('ingest workflow not started; the recovery sweep will start it', { workspaceId, batchId, error });
      }
    }
    return write.receipts;
  };
}
