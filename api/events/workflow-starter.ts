import type { Client } from '@temporalio/client';
import type { Logger } from '../../log/mod.ts';
import { startIngestWorkflow } from '../../workflows/client.ts';

/**
 * A busy workspace's workflow starts at least this long after its previous one, unless set
 * (INGEST_WORKFLOW_INTERVAL_MS). Measured against 100 ms in docs/architecture.md.
 */
export const DEFAULT_WORKFLOW_INTERVAL_MS = 200;

export interface WorkflowStarterOptions {
  /** Starts in flight at once, across workspaces (one at a time per workspace). */
  concurrency: number;
  /** Batches waiting for a start at most; beyond it, the recovery schedule starts them. */
  maxQueued: number;
  /** Events one workflow carries at most when queued batches are coalesced. */
  maxEventsPerWorkflow: number;
  /**
   * A workspace's next start comes at least this long (ms) after its previous one began, unless
   * `maxEventsPerWorkflow` events are waiting. A workspace that was quiet starts at once.
   */
  minIntervalMs: number;
}

interface QueuedBatch { batchId: string; events: number }

/**
 * Starts ingestion workflows off the request path. A batch is already durable when it is queued
 * here, so a start that fails, or one never made because the process died or the queue was full,
 * only delays the batch until the recovery schedule starts it.
 *
 * Each workspace has at most one start in flight, and its starts are at least `minIntervalMs`
 * apart; the batches it commits meanwhile wait and then go together in one workflow. Under load a
 * workspace so gets a bounded number of workflows a second whatever the number of requests, and
 * each workflow's fixed cost (a few ms of CPU in Temporal and the worker) is shared by many
 * events. Only when events become readable depends on this; the clients had their 202 already.
 *
 * ```ts
 * const starter = new WorkflowStarter(client, 'sealtrail', log, { concurrency: 8, maxQueued: 10_000, maxEventsPerWorkflow: 5000 });
 * starter.enqueue(workspaceId, batchId, 25);
 * await starter.drain();
 * ```
 */
export class WorkflowStarter {
  readonly #client: Client;
  readonly #taskQueue: string;
  readonly #log: Logger;
  readonly #options: WorkflowStarterOptions;
  // Insertion order of the map is the order workspaces are served in.
  readonly #queues = new Map<string, { batches: QueuedBatch[]; events: number }>();
  readonly #starting = new Set<string>();
  /** When (performance.now()) each recently served workspace's last start began. */
  readonly #lastStart = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #queued = 0;
  #idle: Array<() => void> = [];

  constructor(client: Client, taskQueue: string, log: Logger, options: WorkflowStarterOptions) {
    this.#client = client;
    this.#taskQueue = taskQueue;
    this.#log = log;
    this.#options = options;
  }

  enqueue(workspaceId: string, batchId: string, events: number): void {
    if (this.#queued >= this.#options.maxQueued) {
      this.#log.warn('workflow start queue full; the recovery sweep will start this batch', { workspaceId, batchId });
      return;
    }
    const queue = this.#queues.get(workspaceId);
    if (queue) {
      queue.batches.push({ batchId, events });
      queue.events += events;
    } else {
      this.#queues.set(workspaceId, { batches: [{ batchId, events }], events });
    }
    this.#queued++;
    this.#pump();
  }

  /** Resolves once every queued start has been attempted. */
  async drain(): Promise<void> {
    if (this.#starting.size === 0 && this.#queued === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    const now = performance.now();
    for (const [workspaceId, queue] of this.#queues) {
      if (this.#starting.size >= this.#options.concurrency) return;
      if (this.#starting.has(workspaceId)) continue;
      const wait = (this.#lastStart.get(workspaceId) ?? -Infinity) + this.#options.minIntervalMs - now;
      if (wait > 0 && queue.events < this.#options.maxEventsPerWorkflow) {
        if (!this.#timers.has(workspaceId)) this.#timers.set(workspaceId, setTimeout(() => { this.#timers.delete(workspaceId); this.#pump(); }, wait));
        continue;
      }
      clearTimeout(this.#timers.get(workspaceId));
      this.#timers.delete(workspaceId);
      const batchIds: string[] = [];
      let events = 0;
      const { batches } = queue;
      while (batches.length > 0 && (batchIds.length === 0 || events + batches[0]!.events <= this.#options.maxEventsPerWorkflow)) {
        const next = batches.shift()!;
        batchIds.push(next.batchId);
        events += next.events;
      }
      queue.events -= events;
      this.#queued -= batchIds.length;
      this.#queues.delete(workspaceId);
      if (batches.length > 0) this.#queues.set(workspaceId, queue); // the rest waits its turn, behind the others
      this.#starting.add(workspaceId);
      this.#lastStart.set(workspaceId, now);
      startIngestWorkflow(this.#client, this.#taskQueue, { workspaceId, batchIds })
        .catch((error: unknown) => this.#log.warn('ingest workflow not started; the recovery sweep will start it', { workspaceId, batchIds, error }))
        .finally(() => {
          this.#starting.delete(workspaceId);
          this.#forgetQuietWorkspaces();
          this.#pump();
          if (this.#starting.size === 0 && this.#queued === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }

  // A workspace whose last start is older than the interval starts at once anyway: forget it.
  #forgetQuietWorkspaces(): void {
    if (this.#lastStart.size < 1000) return;
    const horizon = performance.now() - this.#options.minIntervalMs;
    for (const [workspaceId, at] of this.#lastStart) if (at < horizon) this.#lastStart.delete(workspaceId);
  }
}
