/**
 * The worker threads of `sealtrail verify-bundle` (cli/verify-bundle.ts). This module is light on
 * purpose: the CLI starts the threads before it loads the rest of the verifier (viem among it,
 * ~0.3 s), and each thread reads the bundle's header itself, so the threads check slices while
 * the main thread is still loading. Slices taken before the main thread listens are kept for it.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { TakenSlice } from './bundle-slice.ts';

/** What each worker is given; it reads the rest (the header, where the event lines start) from the file. */
export interface VerifierWorkerData {
  file: string;
  quiet: boolean;
  sliceBytes: number;
  /** How much of the file every thread checks: its size when the threads started. */
  size: number;
  /** The next slice index, shared by every thread. */
  next: Int32Array;
}

/** What a worker posts: first the bundle's first line as it read it, then each slice it took, then done. */
export type WorkerMessage = { first: string | null } | TakenSlice | { done: true };

/** Slices of about this many bytes (~1,600 events of 2.5 kB; always whole runs): small enough that no thread is left finishing a long last slice alone. */
export const SLICE_BYTES = 4 << 20;
/** Set as the next slice index to stop every thread. */
export const STOP = 1 << 30;

const WORKER_MODULE = new URL('./verify-bundle-worker.ts', import.meta.url);

/**
 * Threads by default for a bundle of `bytes`: the cores there are (at most 4) from
 * WORKER_MIN_BYTES on, one below, where starting a worker (loading the verifier's code, ~0.2 s)
 * costs more than it saves. Measured on 2 cores: 48 MB (20,000 events) 0.25 s in one thread,
 * 0.31 s in two; 256 MB (100,000 events) 0.73 s and 0.59 s.
 */
export function defaultThreads(bytes = Infinity): number {
  return bytes < WORKER_MIN_BYTES ? 1 : Math.min(4, availableParallelism());
}

const WORKER_MIN_BYTES = 128 * 1024 * 1024;

/** A worker, what it posted before anyone listened, and whether it has ended. */
interface WorkerEntry { worker: Worker; messages: WorkerMessage[]; ended: boolean; onMessage?: (m: WorkerMessage) => void; onEnd?: () => void }

/**
 * The worker threads of one verification, `threads - 1` of them (the calling thread is the other).
 * They start taking slices at once; {@link run} hands their results over once the caller has read
 * the header too.
 */
export class VerifierThreads {
  /** The next slice index, shared by every thread, the caller's included. */
  readonly next = new Int32Array(new SharedArrayBuffer(4));
  /** The slice size every thread cuts by (the caller's must be the same). */
  readonly sliceBytes: number;
  /**
   * The file's size when the threads started. Every thread, the caller's included, checks the
   * file up to there: a file that grows meanwhile (still being written) is checked as it was,
   * and the threads cannot disagree on where it ends.
   */
  readonly size: number;
  readonly #workers: WorkerEntry[];

  /** `threads`: the caller's included; by default, {@link defaultThreads} for the file's size (a missing file throws ENOENT). */
  constructor(o: { file: string; threads?: number; quiet: boolean; sliceBytes?: number; workerModule?: URL }) {
    this.sliceBytes = o.sliceBytes ?? SLICE_BYTES;
    this.size = statSync(o.file).size;
    const threads = o.threads ?? defaultThreads(this.size);
    const workerData: VerifierWorkerData = { file: o.file, quiet: o.quiet, sliceBytes: this.sliceBytes, size: this.size, next: this.next };
    this.#workers = Array.from({ length: Math.max(0, threads - 1) }, () => {
      const entry: WorkerEntry = { worker: new Worker(o.workerModule ?? WORKER_MODULE, { workerData }), messages: [], ended: false };
      const end = () => { entry.ended = true; entry.onEnd?.(); };
      entry.worker.on('message', (m: WorkerMessage) => (entry.onMessage ? entry.onMessage(m) : entry.messages.push(m)));
      entry.worker.on('error', end);
      entry.worker.on('exit', end);
      return entry;
    });
  }

  /**
   * Hands every slice the workers took (so far and from now on) to `join`, and resolves once each
   * worker is done, failed or exited. A worker that read another first line than `firstLine` (the
   * file changed in between) is stopped and its slices are dropped. Either way, and when a worker
   * fails or exits before it is done, no thread takes another slice: the join stops at the first
   * slice missing, and the rest is checked once, in the calling thread.
   */
  run(firstLine: string, join: (taken: TakenSlice) => void): Promise<void> {
    return Promise.all(this.#workers.map((entry) => new Promise<void>((resolve) => {
      let trusted = false;
      let done = false;
      const lost = () => Atomics.store(this.next, 0, STOP);
      entry.onEnd = () => {
        if (!done) lost();
        resolve();
      };
      entry.onMessage = (m) => {
        if ('first' in m) {
          trusted = m.first === firstLine;
          if (!trusted) {
            lost();
            void entry.worker.terminate();
          }
        } else if ('done' in m) {
          done = true;
          resolve();
        } else if (trusted) join(m);
      };
      for (const m of entry.messages.splice(0)) entry.onMessage(m);
      if (entry.ended) entry.onEnd();
    }))).then(() => undefined);
  }

  /** Stops every worker (those still running are terminated). */
  async stop(): Promise<void> {
    Atomics.store(this.next, 0, STOP);
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}

/**
 * For the CLI: starts the worker threads `sealtrail verify-bundle` will use, before the
 * verifier's code loads; undefined when the file cannot be read (the command then says why).
 */
export function startVerifierThreadsEarly(a: { file: string; quiet: boolean; threads?: number }): VerifierThreads | undefined {
  try {
    return new VerifierThreads(a);
  } catch {
    return undefined;
  }
}
