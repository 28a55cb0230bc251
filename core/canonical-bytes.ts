/**
 * Recognising RFC 8785 canonical JSON in UTF-8 bytes, in one pass and without parsing.
 *
 * Checking `hash = SHA-256(JCS(JSON.parse(text)))` the direct way parses the text, writes it out
 * again and hashes that. When the text is already canonical, JCS(JSON.parse(text)) is the text
 * itself, so hashing the bytes as they are gives the same answer at a fraction of the cost. These
 * scanners decide "already canonical" for that shortcut.
 *
 * They are conservative by design: they never accept a text that is not exactly what
 * `canonicalJson(JSON.parse(text))` would write, but they may turn down some canonical ones
 * (object keys with escapes or non-ASCII characters, nesting deeper than {@link MAX_DEPTH},
 * `\u` escapes other than for control characters). A refusal only sends the caller back to the
 * direct way, so it costs time, never a different verdict. UTF-8 validity is not checked here:
 * callers check the whole span once with `isUtf8` (node:buffer), which also rules out encoded
 * lone surrogates.
 */
import { isUtf8 } from 'node:buffer';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Bytes that stand for themselves in a canonical string: all but `"`, `\\` and control characters. */
const PLAIN = new Uint8Array(256).fill(1, 0x20);
PLAIN[QUOTE] = 0;
PLAIN[BACKSLASH] = 0;

/** Deeper values are turned down (the direct way handles them). */
export const MAX_DEPTH = 200;

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;
const lowerHexValue = (c: number | undefined): number =>
  c === undefined ? -1 : c >= ZERO && c <= NINE ? c - ZERO : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;

/**
 * End (exclusive) of the canonical JSON string token at `i`, or -1. Canonical means as
 * JSON.stringify writes a well-formed string: `"` and `\` escaped, control characters as `\b`,
 * `\t`, `\n`, `\f`, `\r` or `\u00xx` (lower-case hex), everything else as itself.
 */
export function scanString(b: Uint8Array, i: number, end: number): number {
  if (b[i] !== QUOTE) return -1;
  i++;
  for (;;) {
    while (i < end && PLAIN[b[i]!] === 1) i++;
    if (i >= end) return -1;
    if (b[i] === QUOTE) return i + 1;
    if (b[i] !== BACKSLASH) return -1;
    const e = b[i + 1];
    // \" \\ \b \f \n \r \t
    if (e === QUOTE || e === BACKSLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
      continue;
    }
    if (e !== 0x75 || b[i + 2] !== ZERO || b[i + 3] !== ZERO) return -1;
    const high = lowerHexValue(b[i + 4]);
    const low = lowerHexValue(b[i + 5]);
    const code = high * 16 + low;
    // Only control characters without a short escape are written as \u00xx.
    if (high < 0 || high > 1 || low < 0 || code === 8 || code === 9 || code === 10 || code === 12 || code === 13) return -1;
    i += 6;
  }
}

/** Like {@link scanString}, for an object key: printable ASCII only and no escapes, so bytes sort as UTF-16 does. */
function scanKey(b: Uint8Array, i: number, end: number): number {
  if (b[i] !== QUOTE) return -1;
  for (i++; i < end; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20 || c >= 0x80 || c === BACKSLASH) return -1;
  }
  return -1;
}

/** The contents of key tokens [as, ae) and [bs, be) compare as a < b (RFC 8785 §3.2.3 order). */
function keyBefore(b: Uint8Array, as: number, ae: number, bs: number, be: number): boolean {
  const a = ae - as - 2;
  const c = be - bs - 2;
  const n = Math.min(a, c);
  for (let k = 1; k <= n; k++) {
    const x = b[as + k]!;
    const y = b[bs + k]!;
    if (x !== y) return x < y;
  }
  return a < c;
}

/**
 * End of the canonical JSON number at `i`, or -1: the JSON grammar, and then exactly what
 * ECMAScript's Number::toString writes for its value (so `1.0`, `-0`, `1E3`, `1e21` are refused).
 */
export function scanNumber(b: Uint8Array, i: number, end: number): number {
  const start = i;
  if (b[i] === MINUS) i++;
  if (b[i] === ZERO) i++;
  else if (isDigit(b[i])) while (i < end && isDigit(b[i])) i++;
  else return -1;
  const integerEnd = i;
  if (b[i] === DOT) {
    if (!isDigit(b[++i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === MINUS) i++;
    if (!isDigit(b[i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  // Short integers are canonical as written (except -0); anything else by a round trip.
  if (i === integerEnd && i - start <= 15 && !(b[start] === MINUS && b[start + 1] === ZERO)) return i;
  const text = Buffer.from(b.buffer, b.byteOffset + start, i - start).toString('latin1');
  return String(Number(text)) === text ? i : -1;
}

function scanLiteral(b: Uint8Array, i: number, end: number, literal: readonly number[]): number {
  if (i + literal.length > end) return -1;
  for (let k = 0; k < literal.length; k++) if (b[i + k] !== literal[k]) return -1;
  return i + literal.length;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

/** End of the canonical JSON value at `i` (no whitespace anywhere), or -1. */
export function scanValue(b: Uint8Array, i: number, end: number, depth = 0): number {
  switch (b[i]) {
    case QUOTE: return scanString(b, i, end);
    case OPEN_OBJECT: return scanObject(b, i, end, depth);
    case OPEN_ARRAY: return scanArray(b, i, end, depth);
    case 0x74: return scanLiteral(b, i, end, TRUE);
    case 0x66: return scanLiteral(b, i, end, FALSE);
    case 0x6e: return scanLiteral(b, i, end, NULL);
    default: return scanNumber(b, i, end);
  }
}

/** End of the canonical JSON object at `i`: members with strictly increasing keys, or -1. */
export function scanObject(b: Uint8Array, i: number, end: number, depth = 0): number {
  if (b[i] !== OPEN_OBJECT || depth >= MAX_DEPTH) return -1;
  if (b[++i] === CLOSE_OBJECT) return i + 1;
  let previousStart = -1;
  let previousEnd = -1;
  for (;;) {
    const keyEnd = scanKey(b, i, end);
    if (keyEnd < 0 || b[keyEnd] !== COLON) return -1;
    if (previousStart >= 0 && !keyBefore(b, previousStart, previousEnd, i, keyEnd)) return -1;
    previousStart = i;
    previousEnd = keyEnd;
    i = scanValue(b, keyEnd + 1, end, depth + 1);
    if (i < 0) return -1;
    if (b[i] === CLOSE_OBJECT) return i + 1;
    if (b[i++] !== COMMA) return -1;
  }
}

/** End of the canonical JSON array at `i`, or -1. */
export function scanArray(b: Uint8Array, i: number, end: number, depth = 0): number {
  if (b[i] !== OPEN_ARRAY || depth >= MAX_DEPTH) return -1;
  if (b[++i] === CLOSE_ARRAY) return i + 1;
  for (;;) {
    i = scanValue(b, i, end, depth + 1);
    if (i < 0) return -1;
    if (b[i] === CLOSE_ARRAY) return i + 1;
    if (b[i++] !== COMMA) return -1;
  }
}

/**
 * Whether `bytes` (UTF-8) is exactly the RFC 8785 form of the JSON value it denotes, as far as
 * these scanners can tell (see the file comment: a `false` may be a canonical text they do not
 * vouch for; a `true` never is anything else).
 *
 * @example isCanonicalJsonBytes(Buffer.from('{"a":1,"b":[true]}')) // => true
 */
export function isCanonicalJsonBytes(bytes: Uint8Array): boolean {
  return scanValue(bytes, 0, bytes.length) === bytes.length && isUtf8(bytes);
}
