/**
 * Anchor bundles, version 1 (docs/integrity.md, "Bundles"): one workspace-day as JSON
 * lines, a header line with the anchor and its global proof, then one line per event with
 * its inclusion proof, so that a third party can check the whole day offline.
 *
 * Checking a million proofs one by one would hash ~20 nodes per event. Instead each run of
 * {@link SUBTREE_SIZE} lines is rebuilt once from its leaves and compared with the
 * anchored subtree root; a proof is then valid exactly when every path element equals the
 * true sibling, which is a string comparison. Any mismatch falls back to the RFC 9162
 * §2.1.3.2 algorithm for that event, so the reported reason is the same either way.
 */
import { anchorRecordHash, AnchorRecordError, type AnchorRecord } from '../anchor.ts';
import {
  checkAnchorInGlobalTree, checkEventHash, checkEventInAnchor, checkEventInclusion, failure, isHexHash,
  type AnchorRef, type AnchorTransactionRef, type EventVerdictBase, type GlobalProofJson, type InclusionProofJson, type ProofFailure,
} from '../anchor-proof.ts';
import { CanonicalJsonError } from '../canonical.ts';
import { IntactScope, isPlainPath, lineScope, PATH_STRIDE, readIntactEventLine, type IntactEventLine } from './line.ts';
import { fromHex, toHex } from '../hex.ts';
import { pathFromLevels, treeLevels } from '../anchor-tree.ts';
import { packedLeafHashes, packedTreeLevels, rootOfHashes, SUBTREE_SIZE } from '../merkle.ts';
import type { HashedEvent } from '../hashed-event.ts';

export const BUNDLE_TYPE = 'sealtrail.anchor_bundle';
export const BUNDLE_VERSION = 1;

/** The first line of a bundle. */
export interface BundleHeader {
  type: typeof BUNDLE_TYPE;
  v: typeof BUNDLE_VERSION;
  anchor: AnchorRef;
  /** The workspace's previous anchor, so the day's first event can be linked to it. */
  previous_anchor: { id: string; record: AnchorRecord; hash: string } | null;
  subtree_size: number;
  /** Roots of each run of `subtree_size` leaves; their Merkle Tree Hash is the merkle_root. */
  subtree_roots: string[];
  global: GlobalProofJson;
  transaction: AnchorTransactionRef;
}

/**
 * Every other line: one event in chain order (the hashed object, members in canonical order),
 * its hash, and its path to the anchor's merkle_root. Members in this order.
 */
export interface BundleEventLine {
  type: 'event';
  event_hash: string;
  inclusion: InclusionProofJson;
  event: HashedEvent;
}

/** The verdict on one event line; valid when `failures` is empty. */
export interface EventVerdict extends EventVerdictBase {
  /** 0-based line number among the event lines. */
  position: number;
}

/**
 * Checks the header on its own: its anchor record hash and global proof, that the subtree
 * roots make up the anchored merkle_root, and the link to the previous anchor.
 */
export function verifyBundleHeader(header: BundleHeader): ProofFailure[] {
  const malformed = malformedBundleHeader(header);
  if (malformed) return [malformed];
  const out = checkAnchorInGlobalTree(header.anchor, header.global);
  const subtreeProblem = checkSubtreeRoots(header);
  if (subtreeProblem) out.push(subtreeProblem);
  out.push(...checkPreviousAnchor(header));
  return out;
}

/**
 * Why a first line is not a bundle header this verifier can go on with (a `malformed` failure),
 * or null: the part of {@link verifyBundleHeader} that decides whether the event lines are checked.
 */
export function malformedBundleHeader(header: BundleHeader): ProofFailure | null {
  if (!header || typeof header !== 'object' || header.type !== BUNDLE_TYPE) {
    return failure('malformed', `the first line is not a bundle header (type must be "${BUNDLE_TYPE}")`);
  }
  if (header.v !== BUNDLE_VERSION) return failure('malformed', `bundle version ${String(header.v)} is not supported (this verifier knows ${BUNDLE_VERSION})`);
  if (!header.anchor?.record || !header.global || !Array.isArray(header.subtree_roots)) {
    return failure('malformed', 'bundle header must have anchor, global and subtree_roots');
  }
  return null;
}

function checkSubtreeRoots(header: BundleHeader): ProofFailure | null {
  const { record } = header.anchor;
  if (header.subtree_size !== SUBTREE_SIZE) return failure('subtree_roots_mismatch', `subtree_size must be ${SUBTREE_SIZE}, got ${header.subtree_size}`);
  const expected = Math.ceil(record.events_count / SUBTREE_SIZE);
  if (header.subtree_roots.length !== expected) {
    return failure('subtree_roots_mismatch', `${header.subtree_roots.length} subtree roots for ${record.events_count} events; expected ${expected}`);
  }
  if (!header.subtree_roots.every(isHexHash)) return failure('subtree_roots_mismatch', 'subtree roots must be 64 lowercase hex characters');
  const root = toHex(rootOfHashes(header.subtree_roots.map(fromHex)));
  return root === record.merkle_root ? null
    : failure('subtree_roots_mismatch', `subtree roots lead to ${root}, not the anchored merkle_root ${record.merkle_root}`);
}

function checkPreviousAnchor(header: BundleHeader): ProofFailure[] {
  const { record } = header.anchor;
  const previous = header.previous_anchor;
  if (record.previous_anchor_hash === null) {
    return previous ? [failure('previous_anchor_mismatch', 'the anchor has no previous anchor, but the bundle names one')] : [];
  }
  if (!previous?.record) return [failure('previous_anchor_mismatch', `the anchor links to previous anchor ${record.previous_anchor_hash}, which the bundle does not include`)];
  let hash: string;
  try {
    hash = anchorRecordHash(previous.record);
  } catch (e) {
    if (!(e instanceof AnchorRecordError || e instanceof CanonicalJsonError)) throw e;
    return [failure('previous_anchor_mismatch', `previous anchor record: ${e.message}`)];
  }
  const out: ProofFailure[] = [];
  if (hash !== record.previous_anchor_hash) {
    out.push(failure('previous_anchor_mismatch', `previous anchor record hashes to ${hash}, but the anchor links to ${record.previous_anchor_hash}`));
  }
  if (previous.record.workspace_id !== record.workspace_id || previous.record.period_end > record.period_start) {
    out.push(failure('previous_anchor_mismatch', 'previous anchor is of another workspace or does not end before this one starts'));
  }
  return out;
}

interface PendingProof {
  verdict: EventVerdict;
  /** The line's event_hash when it is well-formed hex, else null (then no fast path). */
  eventHash: string | null;
  /** The parsed line's inclusion proof; null for a malformed line or a line read from its bytes. */
  inclusion: InclusionProofJson | null;
  /** A line read from its bytes (pushBytes): the bytes and what was read from them. */
  raw?: { bytes: Buffer; line: IntactEventLine };
  /** A parsed line as pushed, to check it again (see #recheck). */
  parsed?: unknown;
}

/** The running state of a checker, saved where each run starts so that the run can be checked again. */
interface CheckerState {
  position: number;
  count: number;
  expectedPrevious: string | null | undefined;
  firstPrevious: string | null | undefined;
  lastEventHash: string | null;
  maxLeaf: number;
  firstEventHash: string | null;
}

/**
 * Checks event lines in order, from line `startPosition` (a multiple of
 * {@link SUBTREE_SIZE}, so slices can be checked in parallel and joined): each event's hash,
 * its link to the line before, its workspace and day, its position, and its inclusion
 * proof. Verdicts come out a subtree run at a time, in line order.
 *
 * @example
 * const checker = new BundleEventChecker(header, { previousEventHash: header.previous_anchor?.record.last_event_hash });
 * const verdicts = [...lines.flatMap((l) => checker.push(l)), ...checker.finish()];
 */
export class BundleEventChecker {
  readonly #record: AnchorRecord;
  readonly #scope: IntactScope;
  readonly #subtreeRoots: readonly string[];
  #position: number;
  #expectedPrevious: string | null | undefined;
  #firstPrevious: string | null | undefined;
  #lastEventHash: string | null = null;
  #maxLeaf: number;
  #count = 0;
  #firstEventHash: string | null = null;
  #pending: PendingProof[] = [];
  #runStart: CheckerState | undefined;

  constructor(header: BundleHeader, options: { startPosition?: number; previousEventHash?: string | null } = {}) {
    const start = options.startPosition ?? 0;
    if (start % SUBTREE_SIZE !== 0) throw new RangeError(`startPosition must be a multiple of ${SUBTREE_SIZE}`);
    this.#record = header.anchor.record;
    this.#scope = new IntactScope(this.#record);
    this.#subtreeRoots = header.subtree_roots;
    this.#position = start;
    this.#maxLeaf = start - 1;
    this.#expectedPrevious = options.previousEventHash;
  }

  /** Event lines pushed so far. */
  get count(): number { return this.#count; }
  /** The event_hash member of the first pushed line (null if it had none). */
  get firstEventHash(): string | null { return this.#firstEventHash; }
  /** previous_event_hash of the first pushed event (to join with the slice before). */
  get firstPreviousEventHash(): string | null | undefined { return this.#firstPrevious; }
  /** Stored event_hash of the last pushed event. */
  get lastEventHash(): string | null { return this.#lastEventHash; }

  /** Checks the next event line (parsed JSON); returns the verdicts that are complete. */
  push(line: unknown): EventVerdict[] {
    this.#startRun();
    this.#pushParsed(line);
    return this.#flushWhenComplete();
  }

  #pushParsed(line: unknown): void {
    const position = this.#position++;
    if (++this.#count === 1) this.#firstEventHash = (line as BundleEventLine | null)?.event_hash ?? null;
    const entry = this.#checkLine(line as BundleEventLine, position);
    entry.parsed = line;
    this.#pending.push(entry);
  }

  /**
   * Checks the next event line given as its UTF-8 bytes (without the newline), with the same
   * verdicts as `push(JSON.parse(line))`. A line in Sealtrail's own layout whose event bytes are
   * canonical and hash to its event_hash skips parsing and re-serialising (./line.ts);
   * any other line is parsed and checked as {@link push} does.
   */
  pushBytes(bytes: Uint8Array): EventVerdict[] {
    const line = readIntactEventLine(bytes);
    if (!line) return this.push(parseLine(bytes));
    this.#startRun();
    const position = this.#position++;
    if (++this.#count === 1) this.#firstEventHash = line.event_hash;
    const verdict: EventVerdict = { position, event_id: line.id, leaf_index: line.leaf_index, failures: [] };
    this.#link(line.previous_event_hash, line.event_hash, verdict);
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!this.#scope.holds(buffer, line)) verdict.failures.push(...checkEventInAnchor(lineScope(buffer, line), this.#record));
    const orderProblem = this.#order(line.leaf_index);
    if (orderProblem) verdict.failures.push(orderProblem);
    this.#pending.push({ verdict, eventHash: line.event_hash, inclusion: null, raw: { bytes: buffer, line } });
    return this.#flushWhenComplete();
  }

  #startRun(): void {
    if (this.#pending.length > 0) return;
    this.#runStart = {
      position: this.#position, count: this.#count, expectedPrevious: this.#expectedPrevious, firstPrevious: this.#firstPrevious,
      lastEventHash: this.#lastEventHash, maxLeaf: this.#maxLeaf, firstEventHash: this.#firstEventHash,
    };
  }

  #flushWhenComplete(): EventVerdict[] {
    return this.#position % SUBTREE_SIZE === 0 ? this.#flush() : [];
  }

  /** The verdicts of the last, partial run. */
  finish(): EventVerdict[] {
    return this.#pending.length > 0 ? this.#flush() : [];
  }

  #checkLine(line: BundleEventLine, position: number): PendingProof {
    const verdict: EventVerdict = { position, event_id: null, leaf_index: null, failures: [] };
    const event = line?.event;
    const inclusion = line?.inclusion;
    if (!line || typeof line !== 'object' || line.type !== 'event' || !event || typeof event !== 'object' || !inclusion || typeof inclusion !== 'object') {
      verdict.failures.push(failure('malformed', 'line is not an event line ({"type":"event","event_hash":…,"inclusion":{…},"event":{…}})'));
      this.#link(null, null, verdict);
      return { verdict, eventHash: null, inclusion: null };
    }
    verdict.event_id = typeof event.id === 'string' ? event.id : null;
    verdict.leaf_index = typeof inclusion.leaf_index === 'number' ? inclusion.leaf_index : null;
    const hashProblem = checkEventHash(event, line.event_hash);
    if (hashProblem) verdict.failures.push(hashProblem);
    this.#link(event.previous_event_hash, line.event_hash, verdict);
    const scope = checkEventInAnchor(event, this.#record);
    if (scope.length > 0) verdict.failures.push(...scope);
    const orderProblem = this.#order(inclusion.leaf_index);
    if (orderProblem) verdict.failures.push(orderProblem);
    return { verdict, eventHash: isHexHash(line.event_hash) ? line.event_hash : null, inclusion };
  }

  // Leaves must come in tree order: a leaf at or below one already seen is out of order, a
  // jump over leaves means they are missing from the bundle here.
  #order(leafIndex: unknown): ProofFailure | null {
    if (!Number.isSafeInteger(leafIndex)) return failure('malformed', 'inclusion.leaf_index is not an integer');
    const leaf = leafIndex as number;
    const max = this.#maxLeaf;
    if (leaf > max) this.#maxLeaf = leaf;
    if (leaf <= max) return failure('out_of_order', `event is leaf ${leaf} of the anchored tree but comes after leaf ${max}`);
    if (leaf > max + 1) {
      const missing = leaf - max - 1;
      return failure('missing_events', `${missing === 1 ? `leaf ${max + 1} is` : `leaves ${max + 1}–${leaf - 1} are`} missing before this event (leaf ${leaf})`);
    }
    return null;
  }

  #link(previous: string | null | undefined, current: string | null | undefined, verdict: EventVerdict): void {
    if (this.#count === 1) this.#firstPrevious = previous ?? null;
    const expected = this.#expectedPrevious;
    if (expected !== undefined && previous !== expected) {
      verdict.failures.push(failure('chain_break', `previous_event_hash ${String(previous)} is not the preceding event's hash ${String(expected)}: an event was removed, inserted or moved before this one`));
    }
    this.#expectedPrevious = current ?? null;
    this.#lastEventHash = current ?? null;
  }

  #flush(): EventVerdict[] {
    const entries = this.#pending;
    this.#pending = [];
    const tree = this.#rebuildRun(entries);
    for (let j = 0; j < entries.length; j++) {
      const { verdict, inclusion, eventHash, raw } = entries[j]!;
      if (!inclusion && !raw) continue;
      if (tree && (raw ? tree.matchesRaw(raw.bytes, raw.line, j) : samePath(inclusion!.path, tree.path(j)))) continue;
      // A path equal to the true one is hex; any other reads as JSON would read it only if it is plain text.
      if (raw && !isPlainPath(raw.bytes, raw.line)) return this.#recheck(entries);
      // Not the true path: the full check says why.
      const problem = checkEventInclusion(eventHash ?? '', inclusion ?? inclusionOf(raw!.bytes, raw!.line), this.#record);
      if (problem) verdict.failures.push(problem);
    }
    return entries.map((e) => e.verdict);
  }

  /**
   * Checks a run again with every line parsed, from the state where it started (its lines are
   * pushed again, with fresh verdicts): for a line the fast reader took whose path turned out not
   * to be plain text (which JSON.parse might read differently, or not at all), so that the
   * verdicts are exactly those of parsed lines.
   */
  #recheck(entries: readonly PendingProof[]): EventVerdict[] {
    const start = this.#runStart!;
    this.#position = start.position;
    this.#count = start.count;
    this.#expectedPrevious = start.expectedPrevious;
    this.#firstPrevious = start.firstPrevious;
    this.#lastEventHash = start.lastEventHash;
    this.#maxLeaf = start.maxLeaf;
    this.#firstEventHash = start.firstEventHash;
    for (const e of entries) this.#pushParsed(e.raw ? parseLine(e.raw.bytes) : e.parsed);
    return this.#flush();
  }

  /**
   * The run the entries make up, rebuilt from their event hashes, when it is complete and its
   * root is the anchored subtree root; else undefined (then every proof is checked the slow way).
   */
  #rebuildRun(entries: readonly PendingProof[]): RunTree | undefined {
    const first = entries[0]!.verdict.position;
    const chunk = first / SUBTREE_SIZE;
    const size = this.#record.events_count;
    if (chunk >= this.#subtreeRoots.length || entries.length !== Math.min(SUBTREE_SIZE, size - first)) return undefined;
    const hashes: string[] = [];
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j]!;
      const proof = e.raw?.line ?? e.inclusion;
      if (e.eventHash === null || !proof || proof.leaf_index !== first + j || proof.tree_size !== size) return undefined;
      hashes.push(e.eventHash);
    }
    const upper = this.#upperPath(chunk);
    if (!upper) return undefined;
    const tree = new RunTree(hashes, upper);
    return tree.root === this.#subtreeRoots[chunk] ? tree : undefined;
  }

  /**
   * The path from run `chunk`'s root to the merkle_root, the same for every event of the run;
   * null when the header's subtree roots are not all hashes (the header check reports that).
   */
  #upperPath(chunk: number): string[] | null {
    const levels = upperLevelsOf(this.#subtreeRoots);
    return levels && pathFromLevels(levels, chunk);
  }
}

/** The tree over a header's subtree roots, by their array: each slice's checker would otherwise hash it again. */
const upperLevels = new WeakMap<readonly string[], string[][] | null>();

/** The levels of the tree over the subtree roots; null when they are not all hashes (the header check reports that). */
function upperLevelsOf(subtreeRoots: readonly string[]): string[][] | null {
  let levels = upperLevels.get(subtreeRoots);
  if (levels === undefined) upperLevels.set(subtreeRoots, levels = subtreeRoots.every(isHexHash) ? treeLevels(subtreeRoots.map(fromHex)) : null);
  return levels;
}

/**
 * One run of a day tree rebuilt from its leaves: the true audit path of each of its events,
 * which a valid proof must equal element by element.
 */
class RunTree {
  /** The run's root, hex. */
  readonly root: string;
  /** Each level's nodes as ASCII hex, 64 bytes a node, bottom-up. */
  readonly #hex: Buffer[];
  readonly #upper: readonly string[];
  /**
   * For a complete run, the path of leaf {@link #leaf} as a line writes it, `"…","…"` (the upper
   * path included): consecutive leaves share all but ~2 elements on average, so only those are
   * rewritten, and each line's path is compared with it in one call.
   */
  readonly #text: Buffer | null;
  #leaf = -1;

  constructor(eventHashes: readonly string[], upper: readonly string[]) {
    this.#hex = packedTreeLevels(packedLeafHashes(eventHashes)).map((level) => Buffer.from(level.toString('hex'), 'latin1'));
    this.root = this.#hex[this.#hex.length - 1]!.toString('latin1');
    this.#upper = upper;
    const complete = eventHashes.length === 1 << (this.#hex.length - 1);
    this.#text = complete ? Buffer.from(this.path(0).map((h) => `"${h}"`).join(','), 'latin1') : null;
    if (complete) this.#leaf = 0;
  }

  /** The audit path of leaf `j` of the run to the merkle_root, hex. */
  path(j: number): string[] {
    const path: string[] = [];
    for (let l = 0, i = j; l < this.#hex.length - 1; l++, i >>>= 1) {
      // No sibling means the node is the odd last one, carried up unchanged.
      const sibling = i ^ 1;
      if (sibling * 64 < this.#hex[l]!.length) path.push(this.#hex[l]!.toString('latin1', sibling * 64, sibling * 64 + 64));
    }
    return [...path, ...this.#upper];
  }

  /** Whether the path of a line read from its bytes is exactly `path(j)`, compared in place. */
  matchesRaw(bytes: Buffer, line: IntactEventLine, j: number): boolean {
    const text = this.#text;
    if (text === null) return this.#matchesRawElementwise(bytes, line, j);
    // A complete run: every leaf has one element per level, then the upper path.
    if (line.pathLength !== this.#hex.length - 1 + this.#upper.length) return false;
    for (let l = 0; l < this.#hex.length - 1 && (j >>> l) !== (this.#leaf >>> l); l++) {
      const from = ((j >>> l) ^ 1) * 64;
      this.#hex[l]!.copy(text, l * PATH_STRIDE + 1, from, from + 64);
    }
    this.#leaf = j;
    return bytes.compare(text, 0, text.length, line.pathStart, line.pathStart + text.length) === 0;
  }

  #matchesRawElementwise(bytes: Buffer, line: IntactEventLine, j: number): boolean {
    const expected = this.path(j);
    if (line.pathLength !== expected.length) return false;
    for (let k = 0; k < expected.length; k++) {
      const at = line.pathStart + k * PATH_STRIDE + 1;
      if (bytes.toString('latin1', at, at + 64) !== expected[k]) return false;
    }
    return true;
  }
}

/** A line's bytes as JSON.parse reads them, or null when they are not JSON. */
function parseLine(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return null;
  }
}

/** The inclusion proof of a line read from its bytes (whose path is plain text), as a parsed line would have it. */
function inclusionOf(bytes: Buffer, line: IntactEventLine): InclusionProofJson {
  const path: string[] = [];
  for (let k = 0; k < line.pathLength; k++) {
    const at = line.pathStart + k * PATH_STRIDE + 1;
    path.push(bytes.toString('latin1', at, at + 64));
  }
  return { leaf_index: line.leaf_index, tree_size: line.tree_size, path };
}

function samePath(given: unknown, expected: readonly string[]): boolean {
  if (!Array.isArray(given) || given.length !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (given[i] !== expected[i]) return false;
  return true;
}

/**
 * Whole-bundle checks once every line is read: the number of event lines is the anchored
 * events_count (a removed or added event), and the first and last events are the ones the
 * anchor names.
 */
export function summarizeBundle(record: AnchorRecord, seen: { count: number; firstEventHash: string | null; lastEventHash: string | null }): ProofFailure[] {
  const out: ProofFailure[] = [];
  if (seen.count !== record.events_count) {
    out.push(failure('count_mismatch', `the bundle has ${seen.count} event(s); the anchor covers ${record.events_count}: events were ${seen.count < record.events_count ? 'removed' : 'added'}`));
  }
  if (seen.firstEventHash !== record.first_event_hash) {
    out.push(failure('first_event_mismatch', `the first event is ${String(seen.firstEventHash)}; the anchor starts at ${record.first_event_hash}`));
  }
  if (seen.lastEventHash !== record.last_event_hash) {
    out.push(failure('last_event_mismatch', `the last event is ${String(seen.lastEventHash)}; the anchor ends at ${record.last_event_hash}`));
  }
  return out;
}

/** The result of checking a whole bundle offline (the transaction is checked separately). */
export interface BundleReport {
  headerFailures: ProofFailure[];
  verdicts: EventVerdict[];
  bundleFailures: ProofFailure[];
}

/**
 * Checks a bundle's header and event lines in one thread; `valid` iff every list of
 * failures is empty. Each line is either parsed JSON or its UTF-8 bytes (a Uint8Array, checked
 * by {@link BundleEventChecker.pushBytes}, with the same verdicts). The CLI splits the same work
 * across threads with {@link BundleEventChecker} slices.
 *
 * @example verifyBundle(header, lines.map((l) => JSON.parse(l)))
 */
export function verifyBundle(header: BundleHeader, lines: Iterable<unknown>): BundleReport {
  const headerFailures = verifyBundleHeader(header);
  if (headerFailures.some((f) => f.code === 'malformed')) return { headerFailures, verdicts: [], bundleFailures: [] };
  const checker = new BundleEventChecker(header, { previousEventHash: header.previous_anchor?.record.last_event_hash });
  const verdicts: EventVerdict[] = [];
  for (const line of lines) {
    for (const v of line instanceof Uint8Array ? checker.pushBytes(line) : checker.push(line)) verdicts.push(v);
  }
  for (const v of checker.finish()) verdicts.push(v);
  const bundleFailures = summarizeBundle(header.anchor.record, { count: checker.count, firstEventHash: checker.firstEventHash, lastEventHash: checker.lastEventHash });
  return { headerFailures, verdicts, bundleFailures };
}
