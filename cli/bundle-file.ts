/**
 * Reading a bundle file in slices of whole lines without copying it around: the main thread
 * only finds where slices start and end (newlines, memchr), and whoever checks a slice reads
 * those bytes itself into a buffer it reuses. Fresh buffers for a 250 MB bundle cost more in
 * page faults and copies than checking the lines does.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** A slice: `lines` whole lines in bytes [from, to) of the file, the last one's newline included if present. */
export interface SliceRange { from: number; to: number; lines: number }

const CHUNK = 1 << 22;

/**
 * The ranges of consecutive slices of up to `linesPerSlice` lines, after the first `skip` lines.
 * A last line without a newline counts as a line.
 */
export async function* sliceRanges(path: string, linesPerSlice: number, skip = 0): AsyncGenerator<SliceRange> {
  const file = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let offset = 0;
    let lineStart = 0;
    let skipped = 0;
    let sliceStart = -1;
    let lines = 0;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, CHUNK, offset);
      if (bytesRead === 0) break;
      let pos = 0;
      for (let nl = chunk.indexOf(10, pos); nl >= 0 && nl < bytesRead; nl = chunk.indexOf(10, pos)) {
        pos = nl + 1;
        const start = lineStart;
        lineStart = offset + pos;
        if (skipped < skip) { skipped++; continue; }
        if (sliceStart < 0) sliceStart = start;
        if (++lines === linesPerSlice) {
          yield { from: sliceStart, to: lineStart, lines };
          sliceStart = -1;
          lines = 0;
        }
      }
      offset += bytesRead;
    }
    if (lineStart < offset && skipped >= skip) {
      if (sliceStart < 0) sliceStart = lineStart;
      lines++;
    }
    if (sliceStart >= 0) yield { from: sliceStart, to: offset, lines };
  } finally {
    await file.close();
  }
}

/**
 * Reads byte ranges of one file into a buffer it reuses: a returned slice is valid until the next
 * read. The file is opened for each read, so nothing stays open when a reader (or the worker
 * thread holding it) goes away.
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
      let done = 0;
      while (done < length) {
        const n = readSync(fd, this.#buffer, done, length - done, range.from + done);
        if (n === 0) throw new Error(`the bundle file ended at byte ${range.from + done} while reading up to byte ${range.to}: was it changed while being checked?`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    return this.#buffer.subarray(0, length);
  }
}
