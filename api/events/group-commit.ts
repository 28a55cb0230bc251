import type { AcceptedEvent } from '../../core/mod.ts';
import type { Receipt } from '../../store/mod.ts';
import { unauthenticated } from '../errors.ts';

/**
 * Writes one group durably and returns a receipt per event (input order), checking the given API
 * keys in the same write: when some are revoked, nothing is written and it returns those (a
 * non-empty subset of `keyIds`). Any other failure is thrown, as the answer to every request.
 */
export type HandOff = (workspaceId: string, events: AcceptedEvent[], keyIds: string[]) => Promise<Receipt[] | { revoked: ReadonlySet<string> }>;

interface Waiter { events: AcceptedEvent[]; stamp?: { flushedAt?: number }; keyId?: string; resolve: (r: Receipt[]) => void; reject: (e: unknown) => void }
interface Lane { waiting: Waiter[]; count: number; inFlight: number; timer?: NodeJS.Timeout }

export interface GroupCommitOptions {
  /** How long a lone request waits for company when the workspace is idle, in ms (0 = next tick). */
  windowMs: number;
  /** A group is written as soon as it holds this many events. */
  maxEvents: number;
  /** Hand-offs of one workspace running at once (default 8); more requests wait and join the next group. */
  maxInFlight?: number;
}

/**
 * Group commit: concurrent requests of a workspace are coalesced into one hand-off (one
 * transaction): the first request of a group waits `windowMs` for company, and up to
 * `maxInFlight` hand-offs of a workspace run at once; beyond that, arrivals pile up and go
 * together when a slot frees. (Workflows are coalesced further by the WorkflowStarter.)
 *
 * ```ts
 * const groups = new GroupCommit(handOff, { windowMs: 4, maxEvents: 1000 });
 * const receipts = await groups.submit(workspaceId, events);
 * ```
 */
export class GroupCommit {
  readonly #handOff: HandOff;
  readonly #options: Required<GroupCommitOptions>;
  readonly #lanes = new Map<string, Lane>();

  constructor(handOff: HandOff, options: GroupCommitOptions) {
    this.#handOff = handOff;
    this.#options = { maxInFlight: 8, ...options };
  }

  /**
   * Resolves with the events' receipts once their group is written; `stamp.flushedAt` gets the
   * time (performance.now()) the write began. With `keyId`, the API key is checked in that write:
   * revoked, the request gets a 401 and nothing of it is written.
   */
  submit(workspaceId: string, events: AcceptedEvent[], stamp?: { flushedAt?: number }, keyId?: string): Promise<Receipt[]> {
    return new Promise((resolve, reject) => {
      let lane = this.#lanes.get(workspaceId);
      if (!lane) this.#lanes.set(workspaceId, lane = { waiting: [], count: 0, inFlight: 0 });
      lane.waiting.push({ events, stamp, keyId, resolve, reject });
      lane.count += events.length;
      this.#schedule(workspaceId, lane);
    });
  }

  #schedule(workspaceId: string, lane: Lane): void {
    if (lane.waiting.length === 0 || lane.inFlight >= this.#options.maxInFlight) return;
    if (lane.count >= this.#options.maxEvents) {
      // Full: go at once.
      clearTimeout(lane.timer);
      lane.timer = undefined;
      void this.#flush(workspaceId, lane);
      return;
    }
    // Otherwise wait the window for company. Hand-offs already in flight do not hold this group
    // back: PostgreSQL flushes concurrent commits to disk together.
    lane.timer ??= setTimeout(() => { lane.timer = undefined; void this.#flush(workspaceId, lane); }, this.#options.windowMs);
  }

  async #flush(workspaceId: string, lane: Lane): Promise<void> {
    const group: Waiter[] = [];
    let taken = 0;
    while (lane.waiting.length > 0 && (taken === 0 || taken + lane.waiting[0]!.events.length <= this.#options.maxEvents)) {
      const waiter = lane.waiting.shift()!;
      group.push(waiter);
      taken += waiter.events.length;
    }
    lane.count -= taken;
    lane.inFlight++;
    const now = performance.now();
    for (const waiter of group) if (waiter.stamp) waiter.stamp.flushedAt = now;
    try {
      await this.#write(workspaceId, group);
    } finally {
      lane.inFlight--;
      // Whoever waited for a free slot has waited long enough: write them now.
      if (lane.waiting.length > 0 && !lane.timer) void this.#flush(workspaceId, lane);
      else if (lane.inFlight === 0 && !lane.timer) this.#lanes.delete(workspaceId);
    }
  }

  /** Writes a group; when some of its keys turn out revoked, answers those 401 and writes the rest. */
  async #write(workspaceId: string, group: Waiter[]): Promise<void> {
    const keyIds = group.flatMap((w) => (w.keyId === undefined ? [] : [w.keyId]));
    let written: Awaited<ReturnType<HandOff>>;
    try {
      written = await this.#handOff(workspaceId, group.flatMap((w) => w.events), keyIds);
    } catch (error) {
      for (const waiter of group) waiter.reject(error);
      return;
    }
    if (!Array.isArray(written)) {
      const rest: Waiter[] = [];
      for (const waiter of group) {
        if (waiter.keyId !== undefined && written.revoked.has(waiter.keyId)) waiter.reject(unauthenticated());
        else rest.push(waiter);
      }
      // The revoked keys are some of the group's (see HandOff), so `rest` is smaller each time.
      if (rest.length > 0) await this.#write(workspaceId, rest);
      return;
    }
    let at = 0;
    for (const waiter of group) {
      waiter.resolve(written.slice(at, at + waiter.events.length));
      at += waiter.events.length;
    }
  }

  /** Resolves when no request is waiting or being written. */
  async idle(): Promise<void> {
    while ([...this.#lanes.values()].some((lane) => lane.count > 0 || lane.inFlight > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
