/**
 * Reading a bundle's event line straight from its bytes: the fast path of
 * {@link BundleEventChecker.pushBytes} (./checker.ts).
 *
 * Sealtrail writes each event line as
 * `{"type":"event","event_hash":"…","inclusion":{"leaf_index":…,"tree_size":…,"path":[…]},"event":…}`
 * with the event member written as its own RFC 8785 text, the very bytes its event hash digests.
 * When a line has exactly that layout, its event member is canonical and those bytes hash to the
 * line's event_hash, then JSON.parse + JCS + SHA-256 would find the same hash: the event is
 * intact, and only the few members the other checks need are read out. Any other line (another
 * member order, whitespace, an escape or key this reader does not vouch for, a hash that does
 * not match) gets `null`, and the caller checks it the direct way, which gives the verdict and
 * its reason. So this reader can make checking faster, never more lenient.
 */
import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { scanArray, scanNumber, scanObject, scanString } from '../canonical-bytes.ts';
import type { InclusionProofJson } from '../anchor-proof.ts';
import { HASHED_EVENT_KEYS } from '../hashed-event.ts';

/** What the checks after the event hash need from an intact event line. */
export interface IntactEventLine {
  /** The line's event_hash (64 lowercase hex), which the event's bytes hash to. */
  event_hash: string;
  leaf_index: number;
  tree_size: number;
  /**
   * Offset in the line of the path's first element (its opening quote). The path's elements are
   * 64 bytes between quotes, not yet known to be hex: see {@link isPlainPath}.
   */
  pathStart: number;
  /** Number of path elements; element k's 64 hex digits start at pathStart + 67k + 1. */
  pathLength: number;
  id: string;
  /** The workspace_id member's value, a canonical JSON string token: bytes [workspaceIdStart, workspaceIdEnd). */
  workspaceIdStart: number;
  workspaceIdEnd: number;
  /** Offset of created_at's 27 characters (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, inside its quotes). */
  createdAtStart: number;
  previous_event_hash: string | null;
}

/** The event's workspace_id and created_at, as JSON.parse would read them (for messages; see {@link IntactScope}). */
export function lineScope(b: Buffer, line: IntactEventLine): { workspace_id: string; created_at: string } {
  return { workspace_id: stringAt(b, line.workspaceIdStart, line.workspaceIdEnd), created_at: latin1(b, line.createdAtStart, line.createdAtStart + 27) };
}

/**
 * Whether intact lines belong to an anchor's workspace and day, decided on their bytes, with
 * the answer `checkEventInAnchor` gives on the parsed event. Reading the two members out as
 * strings for every line cost ~7% of checking it.
 */
export class IntactScope {
  /** record.workspace_id as a canonical JSON string token; null when it is not a string. */
  readonly #workspace: Uint8Array | null;
  /** The day's bounds, when they are ASCII (they are timestamps): bytes compare as the strings do. */
  readonly #from: Uint8Array | null;
  readonly #to: Uint8Array | null;

  constructor(record: { workspace_id: unknown; period_start: unknown; period_end: unknown }) {
    this.#workspace = typeof record.workspace_id === 'string' ? Buffer.from(JSON.stringify(record.workspace_id), 'utf8') : null;
    const asciiOrNull = (v: unknown) => (typeof v === 'string' && /^[\x00-\x7f]*$/.test(v) ? ascii(v) : null);
    this.#from = asciiOrNull(record.period_start);
    this.#to = asciiOrNull(record.period_end);
  }

  /** True when the line's event is in the anchor's workspace and day; false means "ask checkEventInAnchor" (it may still be). */
  holds(b: Uint8Array, line: IntactEventLine): boolean {
    const workspace = this.#workspace;
    if (workspace === null || this.#from === null || this.#to === null) return false;
    if (expect(b, line.workspaceIdStart, workspace) !== line.workspaceIdEnd) return false;
    return compareAscii(b, line.createdAtStart, 27, this.#from) >= 0 && compareAscii(b, line.createdAtStart, 27, this.#to) < 0;
  }
}

/** Compares bytes [at, at + length) of `b` with `other` as strings compare: negative, 0 or positive. */
function compareAscii(b: Uint8Array, at: number, length: number, other: Uint8Array): number {
  const n = Math.min(length, other.length);
  for (let k = 0; k < n; k++) {
    const d = b[at + k]! - other[k]!;
    if (d !== 0) return d;
  }
  return length - other.length;
}

/**
 * One event line of a bundle, as Sealtrail writes it (without the newline): the layout
 * {@link readIntactEventLine} reads fast. `preimage` is the event's hash preimage, its RFC 8785 text.
 *
 * @example bundleEventLine(row.event_hash, proof, eventHashPreimage(row, row.previous_event_hash))
 */
export function bundleEventLine(eventHash: string, inclusion: InclusionProofJson, preimage: string): string {
  const path = inclusion.path.map((h) => `"${h}"`).join(',');
  return `{"type":"event","event_hash":"${eventHash}","inclusion":{"leaf_index":${inclusion.leaf_index},"tree_size":${inclusion.tree_size},"path":[${path}]},"event":${preimage}}`;
}

/**
 * The leaf_index a line starting at `at` gives, if it begins in Sealtrail's own layout
 * (`{"type":"event","event_hash":"<64 bytes>","inclusion":{"leaf_index":<digits>,`); else -1.
 * Only a hint for cutting a file into slices: nothing is taken on its word (see cli/verify-bundle.ts).
 */
export function claimedLeafIndex(b: Uint8Array, at: number): number {
  if (expect(b, at, LINE_START) < 0) return -1;
  const i = expect(b, at + LINE_START.length + 64, INCLUSION);
  const leaf = i < 0 ? null : count(b, i);
  return leaf && b[leaf[1]] === 0x2c ? leaf[0] : -1;
}

/** Bytes from one path element's hex digits to the next's: `…","…`. */
export const PATH_STRIDE = 67;

const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const LINE_START = ascii('{"type":"event","event_hash":"');
const INCLUSION = ascii('","inclusion":{"leaf_index":');
const TREE_SIZE = ascii(',"tree_size":');
const PATH = ascii(',"path":[');
const EVENT = ascii(']},"event":');
const NULL = ascii('null');
const TIMESTAMP = ascii('"0000-00-00T00:00:00.000000Z"');

type Kind = 'text' | 'text?' | 'timestamp' | 'object' | 'array' | 'hash?' | 'v' | 'number?';
const KIND: Record<string, Kind> = {
  action: 'text', actor_id: 'text', id: 'text', workspace_id: 'text', metadata: 'object', targets: 'array',
  created_at: 'timestamp', occurred_at: 'timestamp', previous_event_hash: 'hash?', v: 'v', version: 'number?',
};
/** Each member's name as it appears in the canonical text, with what precedes it, and its kind. */
const MEMBERS = HASHED_EVENT_KEYS.map((key, k) => ({ key, token: ascii(`${k === 0 ? '{' : ','}"${key}":`), kind: KIND[key] ?? 'text?' }));
const ID = HASHED_EVENT_KEYS.indexOf('id');
const WORKSPACE_ID = HASHED_EVENT_KEYS.indexOf('workspace_id');
const CREATED_AT = HASHED_EVENT_KEYS.indexOf('created_at');
const PREVIOUS_EVENT_HASH = HASHED_EVENT_KEYS.indexOf('previous_event_hash');
/** Where each member's value starts and ends in the line being read (one reader per thread, reused). */
const valueStart = new Int32Array(MEMBERS.length);
const valueEnd = new Int32Array(MEMBERS.length);

function expect(b: Uint8Array, i: number, token: Uint8Array): number {
  if (i + token.length > b.length) return -1;
  for (let k = 0; k < token.length; k++) if (b[i + k] !== token[k]) return -1;
  return i + token.length;
}

const LOWER_HEX = new Uint8Array(256);
for (const c of Buffer.from('0123456789abcdef', 'latin1')) LOWER_HEX[c] = 1;
const PLAIN_ASCII = new Uint8Array(256).fill(1, 0x20, 0x7f);
PLAIN_ASCII[0x22] = 0;
PLAIN_ASCII[0x5c] = 0;

/** End of 64 lowercase hex digits at `i`, or -1. */
function hex64(b: Uint8Array, i: number): number {
  if (i + 64 > b.length) return -1;
  for (let k = i; k < i + 64; k++) if (LOWER_HEX[b[k]!] === 0) return -1;
  return i + 64;
}

function latin1(b: Buffer, start: number, end: number): string {
  return b.toString('latin1', start, end);
}

/** A canonical non-negative integer below 10^15 at `i`: [value, end], or null. */
function count(b: Uint8Array, i: number): [number, number] | null {
  let value = 0;
  let k = i;
  while (k < b.length && b[k]! >= 0x30 && b[k]! <= 0x39 && k - i < 15) value = value * 10 + b[k++]! - 0x30;
  if (k === i || (b[i] === 0x30 && k > i + 1)) return null;
  return [value, k];
}

/** The string a canonical string token [start, end) stands for. */
function stringAt(b: Buffer, start: number, end: number): string {
  for (let k = start + 1; k < end - 1; k++) {
    if (b[k] === 0x5c || b[k]! >= 0x80) return JSON.parse(b.toString('utf8', start, end)) as string;
  }
  return latin1(b, start + 1, end - 1);
}

function timestampEnd(b: Uint8Array, i: number): number {
  if (i + TIMESTAMP.length > b.length) return -1;
  for (let k = 0; k < TIMESTAMP.length; k++) {
    const c = b[i + k]!;
    if (TIMESTAMP[k] === 0x30 ? !(c >= 0x30 && c <= 0x39) : c !== TIMESTAMP[k]) return -1;
  }
  return i + TIMESTAMP.length;
}

/** End of the value of a member of the hashed object, of the kind event hash v1 requires, or -1. */
function memberEnd(b: Uint8Array, i: number, kind: Kind): number {
  const end = b.length;
  switch (kind) {
    case 'text': return scanString(b, i, end);
    case 'text?': return b[i] === 0x6e ? expect(b, i, NULL) : scanString(b, i, end);
    case 'timestamp': return timestampEnd(b, i);
    case 'object': return scanObject(b, i, end);
    case 'array': return scanArray(b, i, end);
    case 'hash?': {
      if (b[i] === 0x6e) return expect(b, i, NULL);
      if (b[i] !== 0x22) return -1;
      const h = hex64(b, i + 1);
      return h >= 0 && b[h] === 0x22 ? h + 1 : -1;
    }
    case 'v': return b[i] === 0x31 ? i + 1 : -1;
    case 'number?': return b[i] === 0x6e ? expect(b, i, NULL) : scanNumber(b, i, end);
  }
}

/**
 * Whether every path element of a line read by {@link readIntactEventLine} is printable ASCII
 * without quotes or backslashes, so that the line is JSON and JSON.parse reads each element as
 * exactly its 64 bytes.
 */
export function isPlainPath(b: Uint8Array, line: IntactEventLine): boolean {
  for (let k = 0; k < line.pathLength; k++) {
    const at = line.pathStart + k * PATH_STRIDE + 1;
    for (let c = at; c < at + 64; c++) if (PLAIN_ASCII[b[c]!] === 0) return false;
  }
  return true;
}

/**
 * The line (UTF-8, without its newline) when it has Sealtrail's own layout, its event is
 * canonical and hashes to its event_hash; otherwise null (check it the direct way).
 */
export function readIntactEventLine(bytes: Uint8Array): IntactEventLine | null {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = expect(b, 0, LINE_START);
  const hashStart = i;
  // Not checked for hex here: the line is taken only if these 64 bytes equal the hex of the hash.
  if (i < 0 || (i += 64) > b.length) return null;
  const hashEnd = i;
  if ((i = expect(b, i, INCLUSION)) < 0) return null;
  const leaf = count(b, i);
  if (!leaf || (i = expect(b, leaf[1], TREE_SIZE)) < 0) return null;
  const size = count(b, i);
  if (!size || (i = expect(b, size[1], PATH)) < 0) return null;
  const pathStart = i;
  let pathLength = 0;
  if (b[i] !== 0x5d) {
    // Only the shape of each element ("…" of 64 bytes) is looked at here: a path equal to the true
    // one is hex, and any other is checked with isPlainPath before it is read.
    for (;;) {
      if (b[i] !== 0x22 || i + 66 > b.length || b[i + 65] !== 0x22) return null;
      pathLength++;
      i += 66;
      if (b[i] !== 0x2c) break;
      i++;
    }
  }
  if ((i = expect(b, i, EVENT)) < 0) return null;

  const eventStart = i;
  for (let m = 0; m < MEMBERS.length; m++) {
    if ((i = expect(b, i, MEMBERS[m]!.token)) < 0) return null;
    valueStart[m] = i;
    if ((i = memberEnd(b, i, MEMBERS[m]!.kind)) < 0) return null;
    valueEnd[m] = i;
  }
  // The event's closing brace, then the line's, then nothing.
  if (b[i] !== 0x7d || b[i + 1] !== 0x7d || i + 2 !== b.length) return null;
  const event = b.subarray(eventStart, i + 1);
  const eventHash = latin1(b, hashStart, hashEnd);
  if (!isUtf8(event) || hash('sha256', event, 'hex') !== eventHash) return null;

  const previousStart = valueStart[PREVIOUS_EVENT_HASH]!;
  return {
    event_hash: eventHash,
    leaf_index: leaf[0],
    tree_size: size[0],
    pathStart,
    pathLength,
    id: stringAt(b, valueStart[ID]!, valueEnd[ID]!),
    workspaceIdStart: valueStart[WORKSPACE_ID]!,
    workspaceIdEnd: valueEnd[WORKSPACE_ID]!,
    createdAtStart: valueStart[CREATED_AT]! + 1,
    previous_event_hash: b[previousStart] === 0x6e ? null : latin1(b, previousStart + 1, valueEnd[PREVIOUS_EVENT_HASH]! - 1),
  };
}
