/**
 * A worker thread of `sealtrail verify-bundle`: reads the bundle's header itself (so it can start
 * before the main thread has), then takes and checks slices of the file until none is left (see
 * takeSlices). It posts the first line it read first, for the main thread to compare with its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bundleHeaderOf, readFirstLine, RunSlicer } from './bundle-file.ts';
import { takeSlices } from './bundle-slice.ts';
import type { VerifierWorkerData, WorkerMessage } from './verifier-threads.ts';

const data = workerData as VerifierWorkerData;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const first = readFirstLine(data.file);
post({ first: first?.text ?? null });
const header = first && bundleHeaderOf(first.value);
if (header) {
  const slicer = new RunSlicer(data.file, first.next, data.sliceBytes, data.size);
  for (const taken of takeSlices(slicer, data.next, header, data.quiet, header.previous_anchor?.record.last_event_hash)) post(taken);
}
post({ done: true });
