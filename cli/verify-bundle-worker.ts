/** A worker thread of `sealtrail verify-bundle`: checks the slices of lines it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import type { BundleHeader } from '../core/mod.ts';
import { checkSlice, splitSlice } from './bundle-slice.ts';

const { header, quiet } = workerData as { header: BundleHeader; quiet: boolean };

parentPort!.on('message', (job: { id: number; start: number; bytes: Uint8Array; previousEventHash?: string | null }) => {
  const result = checkSlice(header, job.start, splitSlice(job.bytes), quiet, job.previousEventHash);
  parentPort!.postMessage({ id: job.id, result });
});
