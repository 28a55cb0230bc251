/**
 * Checking a run of bundle lines and writing one verdict line per event; shared by the
 * verifier's main thread and its worker threads (cli/verify-bundle.ts).
 */
import { BundleEventChecker, type BundleHeader, type EventVerdict } from '../core/bundle/mod.ts';
import type { RunSlicer } from './bundle-file.ts';

export interface SliceResult {
  start: number;
  count: number;
  /** Events with at least one failure. */
  failed: number;
  firstEventHash: string | null;
  firstPreviousEventHash: string | null | undefined;
  lastEventHash: string | null;
  /** Verdict lines, in order (only failures when quiet). */
  text: string;
}

/** The lines of a raw slice, as bytes without their newline (a trailing newline ends the last line, it does not start one). */
export function* sliceLines(bytes: Uint8Array): Generator<Buffer> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  for (let nl = buffer.indexOf(10); nl >= 0; nl = buffer.indexOf(10, start)) {
    yield buffer.subarray(start, nl);
    start = nl + 1;
  }
  if (start < buffer.length) yield buffer.subarray(start);
}

/** `ok   <line> <event id>` or `FAIL <line> <event id>: <code>: <message>; …` */
export function formatVerdict(v: EventVerdict): string {
  const id = v.event_id ?? '(no id)';
  if (v.failures.length === 0) return `ok   ${v.position} ${id}\n`;
  return `FAIL ${v.position} ${id}: ${v.failures.map((f) => `${f.code}: ${f.message}`).join('; ')}\n`;
}

/** Checks consecutive event lines with one checker, carrying its state from call to call. */
export class SliceRunner {
  readonly #checker: BundleEventChecker;
  readonly #quiet: boolean;

  constructor(header: BundleHeader, options: { start: number; previousEventHash?: string | null; quiet: boolean }) {
    this.#checker = new BundleEventChecker(header, { startPosition: options.start, previousEventHash: options.previousEventHash });
    this.#quiet = options.quiet;
  }

  get checker(): BundleEventChecker { return this.#checker; }
  get firstEventHash(): string | null { return this.#checker.firstEventHash; }

  /** Checks the lines of `slice` (UTF-8 JSON lines); returns the verdict text and failure count of the verdicts completed. */
  push(slice: Uint8Array): { text: string; failed: number } {
    let text = '';
    let failed = 0;
    const take = (verdicts: EventVerdict[]) => {
      for (const v of verdicts) {
        if (v.failures.length > 0) failed++;
        if (!this.#quiet || v.failures.length > 0) text += formatVerdict(v);
      }
    };
    for (const line of sliceLines(slice)) take(this.#checker.pushBytes(line));
    return { text, failed };
  }

  finish(): { text: string; failed: number } {
    let text = '';
    let failed = 0;
    for (const v of this.#checker.finish()) {
      if (v.failures.length > 0) failed++;
      if (!this.#quiet || v.failures.length > 0) text += formatVerdict(v);
    }
    return { text, failed };
  }
}

/** Checks one independent slice of lines starting at line `start` (a multiple of 256). */
export function checkSlice(header: BundleHeader, start: number, slice: Uint8Array, quiet: boolean, previousEventHash?: string | null): SliceResult {
  const runner = new SliceRunner(header, { start, previousEventHash, quiet });
  const a = runner.push(slice);
  const b = runner.finish();
  return {
    start, count: runner.checker.count, failed: a.failed + b.failed, firstEventHash: runner.firstEventHash,
    firstPreviousEventHash: runner.checker.firstPreviousEventHash, lastEventHash: runner.checker.lastEventHash, text: a.text + b.text,
  };
}

/** The result of a slice without lines (no run starts in its bytes): nothing to check. */
function emptySlice(start: number): SliceResult {
  return { start, count: 0, failed: 0, firstEventHash: null, firstPreviousEventHash: undefined, lastEventHash: null, text: '' };
}

/**
 * A slice one thread took and checked: its index, its result (null when it could not be cut, see
 * RunSlicer: the rest of the file is then checked by one thread), and whether it ends the file.
 */
export interface TakenSlice { k: number; result: SliceResult | null; last: boolean; end: number }

/**
 * The loop every verifier thread runs: takes the next slice index from `next` (shared by all
 * threads, so none waits to be handed work), cuts that slice and checks it, until no slice is
 * left. Setting `next` past the end stops every thread after its current slice.
 */
export function* takeSlices(slicer: RunSlicer, next: Int32Array, header: BundleHeader, quiet: boolean, initialPrevious: string | null | undefined): Generator<TakenSlice> {
  for (;;) {
    const k = Atomics.add(next, 0, 1);
    const slice = slicer.slice(k);
    if (!slice) return;
    if (slice.start < 0) {
      yield { k, result: null, last: false, end: -1 };
      return;
    }
    const result = slice.bytes.length === 0 ? emptySlice(slice.start) : checkSlice(header, slice.start, slice.bytes, quiet, k === 0 ? initialPrevious : undefined);
    yield { k, result, last: slice.last, end: slice.end };
    if (slice.last) return;
  }
}
