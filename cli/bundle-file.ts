/**
 * Reading a bundle file without copying it around: its first line (readFirstLine), slices of
 * whole 256-event runs cut by byte offsets, by whichever thread checks them (RunSlicer), and,
 * for the rest of a file checked in one thread, ranges of whole lines (sliceRanges, RangeReader).
 * Each reader reuses one buffer: fresh buffers for a 250 MB bundle cost more in page faults and
 * copies than checking the lines does.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { claimedLeafIndex, malformedBundleHeader, SUBTREE_SIZE, type BundleHeader } from '../core/bundle/mod.ts';
import type { EventProof } from '../core/mod.ts';

/** A slice: `lines` whole lines in bytes [from, to) of the file, the last one's newline included if present. */
export interface SliceRange { from: number; to: number; lines: number }

const CHUNK = 1 << 22;

/**
 * The ranges of consecutive slices of up to `linesPerSlice` lines, from byte `from` (a line's
 * start) up to byte `end` (the end of the file by default). A last line without a newline counts
 * as a line.
 */
export async function* sliceRanges(path: string, linesPerSlice: number, from = 0, end = Infinity): AsyncGenerator<SliceRange> {
  const file = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let offset = from;
    let lineStart = from;
    let sliceStart = -1;
    let lines = 0;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, Math.max(0, Math.min(CHUNK, end - offset)), offset);
      if (bytesRead === 0) break;
      let pos = 0;
      for (let nl = chunk.indexOf(10, pos); nl >= 0 && nl < bytesRead; nl = chunk.indexOf(10, pos)) {
        pos = nl + 1;
        const start = lineStart;
        lineStart = offset + pos;
        if (sliceStart < 0) sliceStart = start;
        if (++lines === linesPerSlice) {
          yield { from: sliceStart, to: lineStart, lines };
          sliceStart = -1;
          lines = 0;
        }
      }
      offset += bytesRead;
    }
    if (lineStart < offset) {
      if (sliceStart < 0) sliceStart = lineStart;
      lines++;
    }
    if (sliceStart >= 0) yield { from: sliceStart, to: offset, lines };
  } finally {
    await file.close();
  }
}

/**
 * The first line of a bundle or proof file: its text, the offset of the line after it, and what
 * it holds as JSON.parse reads it (a proof as the API returns it is unwrapped from its `data`);
 * undefined for an empty file.
 */
export function readFirstLine(path: string): { text: string; next: number; value: unknown } | undefined {
  const fd = openSync(path, 'r');
  let buffer = Buffer.allocUnsafe(1 << 16);
  let size = 0;
  let newline = -1;
  try {
    for (let n = -1; newline < 0 && n !== 0; newline = buffer.subarray(0, size).indexOf(10, size - n)) {
      if (size === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
      n = readSync(fd, buffer, size, buffer.length - size, size);
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  if (size === 0) return undefined;
  const text = buffer.toString('utf8', 0, newline < 0 ? size : newline);
  let value: unknown;
  try { value = JSON.parse(text); } catch { value = undefined; }
  return { text, next: newline < 0 ? size : newline + 1, value: (value as { data?: unknown } | undefined)?.data ?? value };
}

/** Whether a first line's value is a single event's proof (checked as one) rather than a bundle header. */
export function isEventProof(value: unknown): value is EventProof {
  return Boolean((value as EventProof | undefined)?.inclusion && (value as EventProof).anchor);
}

/** The bundle header a first line's value is, when it is one the verifier goes on with (not a proof, not malformed). */
export function bundleHeaderOf(value: unknown): BundleHeader | undefined {
  return !isEventProof(value) && !malformedBundleHeader(value as BundleHeader) ? value as BundleHeader : undefined;
}

/**
 * Reads byte ranges of one file into a buffer it reuses: a returned slice is valid until the next
 * read. The file is opened for each read, so nothing stays open when a reader goes away.
 */
export class RangeReader {
  readonly #path: string;
  #buffer = Buffer.allocUnsafe(0);

  constructor(path: string) {
    this.#path = path;
  }

  read(range: SliceRange): Buffer {
    const length = range.to - range.from;
    if (this.#buffer.length < length) this.#buffer = Buffer.allocUnsafe(Math.max(length, this.#buffer.length * 2));
    const fd = openSync(this.#path, 'r');
    try {
      readFully(fd, this.#buffer, 0, range.from, range.to);
    } finally {
      closeSync(fd);
    }
    return this.#buffer.subarray(0, length);
  }
}

/** Reads the file's bytes [from, to) into `buffer` at `at`. */
function readFully(fd: number, buffer: Buffer, at: number, from: number, to: number): void {
  for (let position = from; position < to;) {
    const n = readSync(fd, buffer, at + position - from, to - position, position);
    if (n === 0) throw new Error(`the bundle file ended at byte ${position}, before byte ${to}: was it changed while being checked?`);
    position += n;
  }
}

/** Slice k of a bundle's event lines, cut by {@link RunSlicer}. */
export interface RunSlice {
  /**
   * The position its first line is taken for: 0 for slice 0 (and for an empty slice), else that
   * line's claimed leaf_index; -1 when the slice could not be cut: no line claims a run start
   * within {@link MAX_SLICE_FACTOR} × sliceBytes (lines in another layout, or one huge line).
   */
  start: number;
  /** Its lines, the last one's newline included if present; valid until the slicer's next call. */
  bytes: Buffer;
  /** Whether it ends where the file does. */
  last: boolean;
  /** The file offset where it ends (where the next slice starts). */
  end: number;
}

/** Bytes read at a time past a slice's nominal end, to find where its last run ends (a run is ~0.6 MB). */
const OVERRUN = 1 << 18;

/**
 * Cuts a bundle's event lines into slices of whole runs of 256 events by byte offsets, so that
 * each thread can take the next slice on its own, without anyone scanning the file for newlines
 * first. Slice 0 starts at the first event line; slice k > 0 at the first line that starts at or
 * after byte k × `sliceBytes` and claims to start a run (Sealtrail's layout, its leaf_index a
 * multiple of 256). Each slice ends where the next starts, so every line is in exactly one
 * slice, and a slice may be empty. A claim is only a hint: the verifier joins slices only when
 * each starts at the line it claims (cli/verify-bundle.ts), and checks the rest in one thread
 * otherwise. A slice is never read whole beyond {@link MAX_SLICE_FACTOR} × sliceBytes: lines
 * written in another layout claim nothing, and such a file is checked by that one thread, which
 * reads it a bounded number of lines at a time.
 */
export class RunSlicer {
  readonly #path: string;
  readonly #size: number;
  readonly #firstLineAt: number;
  readonly #sliceBytes: number;
  /** The most bytes the window may hold: a longer slice is not cut. */
  readonly #maxWindow: number;
  #buffer = Buffer.allocUnsafe(0);
  /** The file's bytes [#from, #to) are #buffer[0, #to - #from) while a slice is cut. */
  #from = 0;
  #to = 0;
  #fd = -1;

  /** `size`: how much of the file to cut (all of it by default); threads checking one file must agree on it. */
  constructor(path: string, firstLineAt: number, sliceBytes: number, size = statSync(path).size) {
    this.#maxWindow = MAX_SLICE_FACTOR * sliceBytes + 2 * OVERRUN;
    this.#path = path;
    this.#size = size;
    this.#firstLineAt = firstLineAt;
    this.#sliceBytes = sliceBytes;
  }

  /** Slice k, or null when there is none (k × sliceBytes is past the end). */
  slice(k: number): RunSlice | null {
    if (k > 0 && k * this.#sliceBytes >= this.#size) return null;
    this.#fd = openSync(this.#path, 'r');
    try {
      return this.#slice(k);
    } catch (error) {
      if (error === TOO_LONG) return { start: -1, bytes: this.#buffer.subarray(0, 0), last: false, end: -1 };
      throw error;
    } finally {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }

  #slice(k: number): RunSlice {
    const begin = k === 0 ? this.#firstLineAt : this.#cut(k, true);
    const nominalEnd = (k + 1) * this.#sliceBytes;
    // No run starts in [k, k + 1) × sliceBytes (or none is left): the next slice starts where this one would.
    if (k > 0 && (begin >= nominalEnd || begin === this.#size)) return { start: 0, bytes: this.#buffer.subarray(0, 0), last: begin === this.#size, end: begin };
    this.#startWindowAt(begin);
    this.#load(Math.max(begin, nominalEnd) + OVERRUN);
    const end = this.#cut(k + 1, false);
    const bytes = this.#buffer.subarray(begin - this.#from, end - this.#from);
    return { start: k === 0 ? 0 : claimedLeafIndex(bytes, 0), bytes, last: end === this.#size, end };
  }

  /**
   * Where slice k > 0 starts: the first line after the first event line that starts at or
   * after byte k × sliceBytes and claims to start a run; the file's size if there is none.
   * `fresh`: nothing before that byte is needed any more.
   */
  #cut(k: number, fresh: boolean): number {
    const from = Math.max(k * this.#sliceBytes, this.#firstLineAt + 1);
    if (from >= this.#size) return this.#size;
    if (fresh) this.#startWindowAt(from - 1);
    // A line starts after a newline at from - 1 or later.
    for (let nl = this.#newlineFrom(from - 1); nl >= 0 && nl + 1 < this.#size; nl = this.#newlineFrom(nl + 1)) {
      const at = nl + 1;
      this.#load(at + CLAIM_BYTES);
      const leaf = claimedLeafIndex(this.#buffer.subarray(0, this.#to - this.#from), at - this.#from);
      if (leaf >= 0 && leaf % SUBTREE_SIZE === 0) return at;
    }
    return this.#size;
  }

  /** Makes the window start at byte `at`, keeping what it holds from there on (in one thread, the last slice's overrun is the start of the next). */
  #startWindowAt(at: number): void {
    if (at >= this.#from && at <= this.#to) this.#buffer.copyWithin(0, at - this.#from, this.#to - this.#from);
    else this.#to = at;
    this.#from = at;
  }

  /** The file offset of the first newline at or after `at`, reading on as needed; -1 if none. */
  #newlineFrom(at: number): number {
    for (;;) {
      const found = this.#buffer.subarray(0, this.#to - this.#from).indexOf(10, at - this.#from);
      if (found >= 0) return this.#from + found;
      if (this.#to >= this.#size) return -1;
      this.#load(this.#to + OVERRUN);
    }
  }

  /** Extends the window to byte `upTo` (or the file's end), keeping what it holds. */
  #load(upTo: number): void {
    const end = Math.min(upTo, this.#size);
    if (end <= this.#to) return;
    const length = end - this.#from;
    if (length > this.#maxWindow) throw TOO_LONG;
    if (this.#buffer.length < length) {
      const grown = Buffer.allocUnsafe(Math.max(length, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#to - this.#from);
      this.#buffer = grown;
    }
    readFully(this.#fd, this.#buffer, this.#to - this.#from, this.#to, end);
    this.#to = end;
  }
}

/** A slice may span at most this many times sliceBytes (plus what is read to find its ends). */
export const MAX_SLICE_FACTOR = 16;
/** Thrown inside the slicer (and caught there) when a slice would outgrow the window. */
const TOO_LONG = new Error('a slice longer than the slicer reads at once');

/** Enough of a line's start to read the leaf_index it claims. */
const CLAIM_BYTES = 160;
