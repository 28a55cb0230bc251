/** A worker thread of `sealtrail verify-bundle`: takes and checks slices of the file until none is left (see takeSlices). */
import { parentPort, workerData } from 'node:worker_threads';
import type { BundleHeader } from '../core/bundle/mod.ts';
import { RunSlicer } from './bundle-file.ts';
import { takeSlices } from './bundle-slice.ts';

export interface VerifierWorkerData {
  header: BundleHeader;
  quiet: boolean;
  file: string;
  firstLineAt: number;
  sliceBytes: number;
  /** The next slice index, shared by every thread. */
  next: Int32Array;
  initialPrevious: string | null | undefined;
}

const data = workerData as VerifierWorkerData;
const slicer = new RunSlicer(data.file, data.firstLineAt, data.sliceBytes);
for (const taken of takeSlices(slicer, data.next, data.header, data.quiet, data.initialPrevious)) parentPort!.postMessage(taken);
parentPort!.postMessage({ done: true });
