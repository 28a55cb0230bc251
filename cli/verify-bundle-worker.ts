/** A worker thread of `sealtrail verify-bundle`: checks the slices of lines it is sent, reading them from the file itself. */
import { parentPort, workerData } from 'node:worker_threads';
import type { BundleHeader } from '../core/bundle/mod.ts';
import { RangeReader, type SliceRange } from './bundle-file.ts';
import { checkSlice } from './bundle-slice.ts';

const { header, quiet, file } = workerData as { header: BundleHeader; quiet: boolean; file: string };
const reader = new RangeReader(file);

parentPort!.on('message', (job: { start: number; range: SliceRange; previousEventHash?: string | null }) => {
  parentPort!.postMessage({ result: checkSlice(header, job.start, reader.read(job.range), quiet, job.previousEventHash) });
});
