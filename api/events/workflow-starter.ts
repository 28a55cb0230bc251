import type { Client } from '@temporalio/client';
import type { Logger } from '../../log/mod.ts';
import { startIngestWorkflow } from '../../workflows/client.ts';
import type { IngestBatchInput } from '../../workflows/ids.ts';

export interface WorkflowStarterOptions {
  /** Starts in flight at once. */
  concurrency: number;
  /** Batches waiting for a start at most; beyond it, the recovery schedule starts them. */
  maxQueued: number;
}

/**
 * Starts ingestion workflows off the request path. A batch is already durable when it is
 * queued here, so a start that fails, or one never made because the process died or the queue
 * was full, only delays the batch until the recovery schedule starts it.
 *
 * ```ts
 * const starter = new WorkflowStarter(client, 'sealtrail', log, { concurrency: 8, maxQueued: 10_000 });
 * starter.enqueue({ batchId, workspaceId });
 * await starter.drain();
 * ```
 */
export class WorkflowStarter {
  readonly #client: Client;
  readonly #taskQueue: string;
  readonly #log: Logger;
  readonly #options: WorkflowStarterOptions;
  readonly #queue: IngestBatchInput[] = [];
  #running = 0;
  #idle: Array<() => void> = [];

  constructor(client: Client, taskQueue: string, log: Logger, options: WorkflowStarterOptions) {
    this.#client = client;
    this.#taskQueue = taskQueue;
    this.#log = log;
    this.#options = options;
  }

  enqueue(input: IngestBatchInput): void {
    if (this.#queue.length >= this.#options.maxQueued) {
      this.#log.warn('workflow start queue full; the recovery sweep will start this batch', { ...input });
      return;
    }
    this.#queue.push(input);
    this.#pump();
  }

  /** Resolves once every queued start has been attempted. */
  async drain(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#options.concurrency && this.#queue.length > 0) {
      const input = this.#queue.shift()!;
      this.#running++;
      startIngestWorkflow(this.#client, this.#taskQueue, input)
        .catch((error: unknown) => this.#log.warn('ingest workflow not started; the recovery sweep will start it', { ...input, error }))
        .finally(() => {
          this.#running--;
          this.#pump();
          if (this.#running === 0 && this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }
}
