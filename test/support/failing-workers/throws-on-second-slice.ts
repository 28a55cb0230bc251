/** A verifier worker (cli/verify-bundle-worker.ts) that checks its first slice, then takes a second and throws with it unchecked. */
import { parentPort, workerData } from 'node:worker_threads';
import { bundleHeaderOf, readFirstLine, RunSlicer } from '../../../cli/bundle-file.ts';
import { takeSlices } from '../../../cli/bundle-slice.ts';
import type { VerifierWorkerData } from '../../../cli/verifier-threads.ts';

const data = workerData as VerifierWorkerData;
const first = readFirstLine(data.file)!;
parentPort!.postMessage({ first: first.text });
const header = bundleHeaderOf(first.value)!;
const slices = takeSlices(new RunSlicer(data.file, first.next, data.sliceBytes, data.size), data.next, header, data.quiet, header.previous_anchor?.record.last_event_hash);
const taken = slices.next();
if (!taken.done) parentPort!.postMessage(taken.value);
Atomics.add(data.next, 0, 1);
throw new Error('this worker fails with its second slice taken');
