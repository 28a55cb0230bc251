/** A verifier worker (cli/verify-bundle-worker.ts) that checks its first slice, then throws on the next with it in flight. */
import { parentPort, workerData } from 'node:worker_threads';
import { RangeReader, type SliceRange } from '../../../cli/bundle-file.ts';
import { checkSlice } from '../../../cli/bundle-slice.ts';

const { header, quiet, file } = workerData as { header: never; quiet: boolean; file: string };
const reader = new RangeReader(file);
let jobs = 0;
parentPort!.on('message', (job: { start: number; range: SliceRange; previousEventHash?: string | null }) => {
  if (++jobs > 1) throw new Error('this worker fails on its second slice');
  parentPort!.postMessage({ result: checkSlice(header, job.start, reader.read(job.range), quiet, job.previousEventHash) });
});
