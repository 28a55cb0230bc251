/**
 * A verifier worker (cli/verify-bundle-worker.ts) that read another first line than the main
 * thread (as if the file had changed in between): it says so first, then posts verdicts that are
 * not this file's (a FAIL line of its own in every slice). None of them may be taken.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bundleHeaderOf, readFirstLine, RunSlicer } from '../../../cli/bundle-file.ts';
import { takeSlices } from '../../../cli/bundle-slice.ts';
import type { VerifierWorkerData } from '../../../cli/verifier-threads.ts';

const data = workerData as VerifierWorkerData;
const first = readFirstLine(data.file)!;
parentPort!.postMessage({ first: `${first.text} ` });
const header = bundleHeaderOf(first.value)!;
for (const taken of takeSlices(new RunSlicer(data.file, first.next, data.sliceBytes, data.size), data.next, header, data.quiet, header.previous_anchor?.record.last_event_hash)) {
  parentPort!.postMessage(taken.result ? { ...taken, result: { ...taken.result, text: `FAIL ${taken.result.start} (another file)\n${taken.result.text}` } } : taken);
}
parentPort!.postMessage({ done: true });
