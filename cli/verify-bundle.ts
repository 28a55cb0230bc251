/**
 * `sealtrail verify-bundle <file> --rpc <url>`: the offline verifier. It checks a bundle (or a
 * single-event proof) with no call to the service: every event hash and chain link is
 * recomputed, every inclusion proof checked, and the global root read from the transaction on
 * the chain itself. One verdict line per event; exit status 0 only when everything holds.
 *
 * Event lines are checked in slices of whole 256-event runs by this thread and worker threads
 * (./verifier-threads.ts), which read the header themselves: the CLI starts them before this
 * module loads, so they are at work while it does. The file is cut by byte offsets (RunSlicer),
 * so no thread scans it for newlines first; this thread joins the slices in order (links across
 * them, counts, and that each starts at the line it claims). Should any slice fail, the rest is
 * checked in one thread from that slice on, so every reason is exactly what a sequential check
 * reports.
 */
import {
  checkAnchorTransaction, SUBTREE_SIZE, summarizeBundle, verifyBundleHeader, verifyEventProof,
  type BundleHeader, type EventProof, type ProofFailure,
} from '../core/mod.ts';
import { openAnchorChain, readAnchorTransaction } from '../activities/anchoring/chain.ts';
import { isEventProof, RangeReader, readFirstLine, RunSlicer, sliceRanges } from './bundle-file.ts';
import { SliceRunner, takeSlices, type TakenSlice } from './bundle-slice.ts';
import { STOP, VerifierThreads } from './verifier-threads.ts';
import { CliError } from './errors.ts';
import type { VerifyArgs } from './verify-bundle-args.ts';

/** The command's arguments (`signer`: require this sender instead of the one the bundle names; `threads`: see defaultThreads of ./verifier-threads.ts when unset), and: */
export interface VerifyOptions extends VerifyArgs {
  out: (text: string) => void;
  /** The worker threads' module; only tests change it (to one that fails). */
  workerModule?: URL;
  /** Bytes per slice (SLICE_BYTES of ./verifier-threads.ts) when the threads are started here; tests make them small. */
  sliceBytes?: number;
}

/** Lines per read when the rest of a bundle is checked in this thread alone: whole 256-event runs. */
const SLICE_LINES = 8 * 256;

function printFailures(out: (t: string) => void, what: string, failures: readonly { code: string; message: string }[], okText: string): void {
  if (failures.length === 0) out(`${what}: ok${okText ? ` (${okText})` : ''}\n`);
  for (const f of failures) out(`${what}: FAIL ${f.code}: ${f.message}\n`);
}

/** Reads the transaction from the chain and checks it carries `globalRoot`. */
async function checkTransaction(o: VerifyOptions, tx: EventProof['transaction'], globalRoot: string, treeSize: number, day: string): Promise<boolean> {
  if (!tx?.tx_hash) {
    o.out(`transaction: FAIL not_sent: the anchor's global root has not been sent yet (status ${tx?.status ?? 'unknown'}); fetch the bundle again once it is confirmed\n`);
    return false;
  }
  const chain = openAnchorChain({ rpcUrl: o.rpc, name: 'local', chainId: tx.chain_id, confirmations: o.minConfirmations });
  let observed;
  try {
    observed = await readAnchorTransaction(chain.client, tx.tx_hash as `0x${string}`);
  } catch (error) {
    o.out(`transaction: FAIL chain_unreachable: ${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message}\n`);
    return false;
  }
  const verdict = checkAnchorTransaction({
    chainId: tx.chain_id, txHash: tx.tx_hash, globalRoot, treeSize, day, signer: o.signer ?? tx.signer,
    blockNumber: tx.block_number, minConfirmations: o.minConfirmations,
  }, observed);
  printFailures(o.out, 'transaction', verdict.failures,
    `chain ${tx.chain_id}, tx ${tx.tx_hash}, block ${observed.receipt?.blockNumber}, ${verdict.confirmations} confirmation(s), sender ${observed.transaction?.from.toLowerCase()}, carries global root ${globalRoot}`);
  return verdict.ok;
}

interface EventsOutcome { count: number; failed: number; firstEventHash: string | null; lastEventHash: string | null }

/** Checks event lines from line `start` (at byte `from`) up to byte `end`, in this thread. */
async function checkSequentially(o: VerifyOptions, header: BundleHeader, start: number, from: number, end: number, previous: string | null | undefined, prefix: EventsOutcome): Promise<EventsOutcome> {
  const runner = new SliceRunner(header, { start, previousEventHash: previous, quiet: o.quiet });
  const reader = new RangeReader(o.file);
  let failed = prefix.failed;
  // Slices hold whole 256-event runs, so nothing of one slice is pending when the reader's buffer
  // is refilled with the next (only the last, partial run waits for finish()).
  for await (const range of sliceRanges(o.file, SLICE_LINES, from, end)) {
    const done = runner.push(reader.read(range));
    failed += done.failed;
    o.out(done.text);
  }
  const r = runner.finish();
  o.out(r.text);
  return {
    count: start + runner.checker.count, failed: failed + r.failed,
    firstEventHash: start === 0 ? runner.firstEventHash : prefix.firstEventHash,
    lastEventHash: runner.checker.count > 0 ? runner.checker.lastEventHash : prefix.lastEventHash,
  };
}

/**
 * Checks event lines on the given threads and this one while every slice is clean (see the file
 * comment). Every thread takes the next slice when it is free (takeSlices), so none waits for
 * another to hand it work; this thread joins the results in order. The worker threads may have
 * started long before (see VerifierThreads), and this thread starts at once, so their start-up
 * (loading the code) overlaps with work instead of delaying it.
 */
async function checkEvents(o: VerifyOptions, header: BundleHeader, first: { text: string; next: number }, threads: VerifierThreads): Promise<EventsOutcome> {
  const initialPrevious = header.previous_anchor?.record.last_event_hash;
  const next = threads.next;
  const done: EventsOutcome = { count: 0, failed: 0, firstEventHash: null, lastEventHash: null };
  const results = new Map<number, TakenSlice>();
  let joined = 0;
  /** The file offset where the joined prefix ends. */
  let joinedEnd = first.next;
  let complete = false;
  let stopped = false;
  let previous: string | null | undefined = initialPrevious;

  // Joins finished slices onto the clean prefix, in order, up to the first that is not clean,
  // does not start at the line its first line claims, or could not be cut.
  const join = (taken: TakenSlice) => {
    results.set(taken.k, taken);
    for (let ready = results.get(joined); ready && !complete && !stopped; ready = results.get(joined)) {
      results.delete(joined++);
      const r = ready.result;
      if (r?.count === 0) {
        complete = ready.last;
        joinedEnd = ready.end;
        continue;
      }
      // A slice that ends inside a run (the next one's first line claims a start it does not
      // have) is not joined either: checking goes on from a run's start.
      const joinable = r !== null && r.failed === 0 && r.start === done.count
        && (ready.k === 0 || r.firstPreviousEventHash === previous)
        && (ready.last || (r.start + r.count) % SUBTREE_SIZE === 0);
      if (!joinable) {
        stopped = true;
        Atomics.store(next, 0, STOP); // no thread takes another slice
        break;
      }
      o.out(r.text);
      if (ready.k === 0) done.firstEventHash = r.firstEventHash;
      done.count += r.count;
      done.lastEventHash = r.lastEventHash;
      previous = r.lastEventHash;
      complete = ready.last;
      joinedEnd = ready.end;
    }
  };
  const onThisThread = async () => {
    for (const taken of takeSlices(new RunSlicer(o.file, first.next, threads.sliceBytes, threads.size), next, header, o.quiet, initialPrevious)) {
      join(taken);
      // Lets the workers' results in between slices.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  // A worker that fails or exits leaves the slices it took unchecked: the join stops at the
  // first of them, and everything from there is checked again in this thread. Once both are
  // done, no worker takes another slice; whoever started the threads stops them.
  await Promise.all([onThisThread(), threads.run(first.text, join)]);
  if (complete) return done;
  return await checkSequentially(o, header, done.count, joinedEnd, threads.size, previous, done);
}

/**
 * Verifies a bundle file; returns the exit status (0 valid, 1 invalid). `threads`: worker threads
 * already started for this file (the CLI starts them before loading this module, and stops
 * them); by default they are started here, first thing.
 */
export async function verifyBundleFile(o: VerifyOptions, started?: VerifierThreads): Promise<number> {
  const threads = started ?? new VerifierThreads(o);
  try {
    return await verifyStartedFile(o, threads);
  } finally {
    if (!started) await threads.stop(); // whoever started them stops them
  }
}

async function verifyStartedFile(o: VerifyOptions, threads: VerifierThreads): Promise<number> {
  const first = readFirstLine(o.file);
  if (isEventProof(first?.value)) return await verifyProof(o, first.value);
  const header = first?.value as BundleHeader;
  const headerFailures: ProofFailure[] = verifyBundleHeader(header);
  if (headerFailures.some((f) => f.code === 'malformed')) {
    printFailures(o.out, 'header', headerFailures, '');
    return 1;
  }
  const record = header.anchor.record;
  printFailures(o.out, 'header', headerFailures,
    `anchor ${header.anchor.id}, workspace ${record.workspace_id}, day ${record.period_start.slice(0, 10)}, ${record.events_count} events, merkle_root ${record.merkle_root}`);

  // The chain is read while the events are checked (its verdict is printed after theirs).
  let txText = '';
  const transaction = checkTransaction({ ...o, out: (text) => { txText += text; } }, header.transaction, header.global.root, header.global.tree_size, record.period_start.slice(0, 10));
  transaction.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const events = await checkEvents(o, header, first!, threads);
  const bundleFailures = summarizeBundle(record, events);
  printFailures(o.out, 'bundle', bundleFailures, `${events.count} of ${record.events_count} events, first and last as anchored${header.previous_anchor ? `, linked to previous anchor ${header.previous_anchor.id}` : ''}`);

  const txOk = await transaction;
  o.out(txText);
  const valid = headerFailures.length === 0 && events.failed === 0 && bundleFailures.length === 0 && txOk;
  o.out(valid
    ? `VALID: all ${events.count} events are intact, in chain order, in the anchored tree, whose root is on chain ${header.transaction.chain_id}\n`
    : `INVALID: ${events.failed} event(s) failed${headerFailures.length ? ', the header failed' : ''}${bundleFailures.length ? ', the bundle is incomplete or reordered' : ''}${txOk ? '' : ', the transaction check failed'}\n`);
  return valid ? 0 : 1;
}

async function verifyProof(o: VerifyOptions, proof: EventProof): Promise<number> {
  const failures = verifyEventProof(proof);
  o.out(failures.length === 0 ? `ok   ${proof.event?.id}\n` : `FAIL ${proof.event?.id}: ${failures.map((f) => `${f.code}: ${f.message}`).join('; ')}\n`);
  const txOk = await checkTransaction(o, proof.transaction, proof.global.root, proof.global.tree_size, proof.anchor.record.period_start.slice(0, 10));
  const valid = failures.length === 0 && txOk;
  o.out(valid ? 'VALID: the event is intact and in the anchored tree, whose root is on chain\n' : 'INVALID\n');
  return valid ? 0 : 1;
}

/**
 * `sealtrail verify-bundle <file> --rpc URL [...]`: runs, printing as it goes, and returns the exit
 * status. `started`: worker threads the CLI started for this file (it stops them).
 */
export async function runVerifyBundleCommand(a: VerifyArgs, started?: VerifierThreads): Promise<number> {
  let pending = '';
  const out = (text: string) => {
    pending += text;
    if (pending.length > 1 << 16) { process.stdout.write(pending); pending = ''; }
  };
  try {
    return await verifyBundleFile({ ...a, out }, started);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`no such file: ${a.file}`);
    throw error;
  } finally {
    process.stdout.write(pending);
  }
}
