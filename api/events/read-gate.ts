import { ApiError } from '../errors.ts';

/** How many reads of one workspace run at once, and how many more may wait. */
export interface ReadLimits { concurrent: number; queued: number }

/**
 * The reads a pool of `poolSize` connections admits per workspace. A list read holds two
 * connections (its page and its count run at once), so one workspace holds at most 40% of the
 * pool, and the others always find connections free.
 */
export function readLimitsFor(poolSize: number): ReadLimits {
  return { concurrent: Math.max(1, Math.floor(poolSize / 5)), queued: 32 };
}

/**
 * Admits each workspace's reads to the shared connection pool a few at a time. Without it, one
 * workspace's heavy reads (searches over millions of events, or a term crafted to be slow on its
 * own data) took every connection, and every other workspace's reads waited behind them.
 * Beyond `concurrent` running and `queued` waiting, a read gets 429 `rate_limited` with
 * `Retry-After`, the contract's per-workspace limit.
 */
export class ReadGate {
  readonly #limits: ReadLimits;
  /** Per workspace with reads in flight: how many run, and the resolvers of those waiting. */
  readonly #workspaces = new Map<string, { running: number; waiting: Array<() => void> }>();

  constructor(limits: ReadLimits) {
    this.#limits = limits;
  }

  /** Runs `read` once the workspace has a free slot; 429 when its queue is full too. */
  async run<T>(workspaceId: string, read: () => Promise<T>): Promise<T> {
    let entry = this.#workspaces.get(workspaceId);
    if (!entry) this.#workspaces.set(workspaceId, entry = { running: 0, waiting: [] });
    if (entry.running < this.#limits.concurrent) entry.running++;
    else if (entry.waiting.length < this.#limits.queued) await new Promise<void>((resolve) => entry.waiting.push(resolve));
    else {
      throw new ApiError(429, 'rate_limited', `Too many reads of this workspace at once (${this.#limits.concurrent} running, ${this.#limits.queued} waiting); retry in 1 s.`,
        { headers: { 'Retry-After': '1' } });
    }
    try {
      return await read();
    } finally {
      // Hand the slot to the next waiting read, or give it back.
      const next = entry.waiting.shift();
      if (next) next();
      else if (--entry.running === 0) this.#workspaces.delete(workspaceId);
    }
  }

  /** Workspaces with reads running or waiting (for tests). */
  get busyWorkspaces(): number {
    return this.#workspaces.size;
  }
}
