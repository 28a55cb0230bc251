/** A verifier worker (cli/verify-bundle-worker.ts) that checks its first slice, then takes a second and throws with it unchecked. */
import { parentPort, workerData } from 'node:worker_threads';
import { RunSlicer } from '../../../cli/bundle-file.ts';
import { takeSlices } from '../../../cli/bundle-slice.ts';
import type { VerifierWorkerData } from '../../../cli/verify-bundle-worker.ts';

const data = workerData as VerifierWorkerData;
const slices = takeSlices(new RunSlicer(data.file, data.firstLineAt, data.sliceBytes), data.next, data.header, data.quiet, data.initialPrevious);
const first = slices.next();
if (!first.done) parentPort!.postMessage(first.value);
Atomics.add(data.next, 0, 1);
throw new Error('this worker fails with its second slice taken');
