import type pg from 'pg';
import type { Logger } from '../../log/mod.ts';
import { KeysRevoked, writeInboxBatch } from '../../store/mod.ts';
import { unavailable } from '../errors.ts';
import type { HandOff } from './group-commit.ts';
import type { WorkflowStarter } from './workflow-starter.ts';

export interface HandOffDeps { pool: pg.Pool; starter: WorkflowStarter; log: Logger }

/**
 * The durable hand-off of one group: the inbox transaction; once it commits, the events are
 * durable and the receipts go back to the clients, while the batch's workflow is started in the
 * background. A failed transaction is a 503: nothing was kept and a retry is safe.
 */
export function createHandOff({ pool, starter, log }: HandOffDeps): HandOff {
  return async (workspaceId, events, keyIds) => {
    const batchId = crypto.randomUUID();
    let write;
    try {
      write = await writeInboxBatch(pool, batchId, workspaceId, events, keyIds);
    } catch (error) {
      if (error instanceof KeysRevoked) return { revoked: error.revoked }; // the group commit answers those 401 and writes the rest
      log.error('hand-off failed', { workspaceId, batchId, events: events.length, error });
      throw unavailable('The events could not be stored durably; nothing was accepted. Retry the request.');
    }
    if (write.stored > 0) starter.enqueue(workspaceId, batchId, write.stored);
    return write.receipts;
  };
}
