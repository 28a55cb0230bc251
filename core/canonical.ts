/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * JCS was designed so that ECMAScript's own JSON.stringify already produces the
 * canonical form of strings (RFC 8785 §3.2.2.2) and numbers (§3.2.2.3); the only
 * extra work is sorting object keys by UTF-16 code units (§3.2.3) and refusing input
 * that has no single JSON meaning. We therefore lean on native code for every leaf
 * (String() for numbers, JSON.stringify for strings that need escaping) and never loop
 * over characters in JavaScript: the only scans are `isWellFormed()` and one regex test.
 */

/** Machine codes carried by {@link CanonicalJsonError}. */
export type CanonicalJsonErrorCode =
  | 'non_finite_number'
  | 'undefined_value'
  | 'unsupported_type'
  | 'not_plain_object'
  | 'ill_formed_string'
  | 'too_deep';

/** Thrown when a value cannot be canonicalised; `code` says why, `message` says where. */
export class CanonicalJsonError extends TypeError {
  readonly code: CanonicalJsonErrorCode;
  constructor(code: CanonicalJsonErrorCode, message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
    this.code = code;
  }
}

/**
 * Deeper nesting than this is treated as an error rather than recursed into: it is
 * almost certainly a cyclic reference, and a clear error beats a stack overflow.
 */
const MAX_DEPTH = 1000;

/**
 * Serialise a JSON-compatible value in RFC 8785 canonical form: no whitespace, object
 * keys sorted by UTF-16 code units, numbers as ECMAScript Number::toString, strings
 * escaped as JSON.stringify does. Object properties whose value is `undefined` are
 * omitted (as JSON.stringify does); everything without one JSON meaning throws a
 * {@link CanonicalJsonError} (a TypeError) naming the offending path: NaN/±Infinity,
 * `undefined` at the top or in an array, functions, symbols, bigints, non-plain objects
 * such as Date or Map, and strings or keys containing lone surrogates.
 *
 * @example canonicalJson({ b: [1e21, 0.1], a: 'é' }) // => '{"a":"é","b":[1e+21,0.1]}'
 */
export function canonicalJson(value: unknown): string {
  try {
    return serializeValue(value, 0);
  } catch (e) {
    if (e instanceof Rejection) throw new CanonicalJsonError(e.code, `${formatPath(e.path)}: ${e.reason}`);
    throw e;
  }
}

/**
 * Internal failure that collects its JSON path while unwinding, so the hot path never
 * builds path strings for values that turn out fine.
 */
class Rejection {
  readonly code: CanonicalJsonErrorCode;
  readonly reason: string;
  /** Innermost segment first. */
  readonly path: Array<string | number> = [];
  constructor(code: CanonicalJsonErrorCode, reason: string) {
    this.code = code;
    this.reason = reason;
  }
}

function formatPath(innermostFirst: ReadonlyArray<string | number>): string {
  let out = '$';
  for (let i = innermostFirst.length - 1; i >= 0; i--) {
    const segment = innermostFirst[i];
    out += typeof segment === 'number' ? `[${segment}]` : `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function serializeValue(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'number':
      return serializeNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) throw new Rejection('too_deep', `nested deeper than ${MAX_DEPTH} levels (cyclic reference?)`);
      if (Array.isArray(value)) return serializeArray(value, depth + 1);
      return serializeObject(value, depth + 1);
    case 'undefined':
      throw new Rejection('undefined_value', 'undefined has no JSON representation');
    default:
      throw new Rejection('unsupported_type', `a ${typeof value} has no JSON representation`);
  }
}

/** Characters RFC 8785 §3.2.2.2 escapes; every other character is written as is. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

// RFC 8785 §3.2.2.2: JSON.stringify escapes exactly what JCS requires, but it would
// silently turn a lone surrogate into "\udXXX", which RFC 8785 forbids (I-JSON). Most
// strings (ids, names, timestamps) need no escaping, and a native regex test is much
// cheaper than a JSON.stringify call, so only the rest go through JSON.stringify.
function serializeString(value: string): string {
  if (!value.isWellFormed()) throw new Rejection('ill_formed_string', 'string contains a lone UTF-16 surrogate');
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

// RFC 8785 §3.2.2.3: Number::toString, with -0 written as "0" (which String() does).
function serializeNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Rejection('non_finite_number', `${value} is not a finite number`);
  return String(value);
}

function serializeKey(key: string): string {
  if (!key.isWellFormed()) throw new Rejection('ill_formed_string', 'property name contains a lone UTF-16 surrogate');
  return NEEDS_ESCAPE.test(key) ? JSON.stringify(key) : `"${key}"`;
}

function serializeArray(value: readonly unknown[], depth: number): string {
  const n = value.length;
  if (n === 0) return '[]';
  let out = '[';
  let i = 0;
  try {
    for (; i < n; i++) {
      const item = value[i];
      if (item === undefined) throw new Rejection('undefined_value', 'undefined (or a hole) inside an array has no JSON representation');
      if (i > 0) out += ',';
      out += serializeValue(item, depth);
    }
  } catch (e) {
    if (e instanceof Rejection) e.path.push(i);
    throw e;
  }
  return out + ']';
}

// RFC 8785 §3.2.3: the default Array.prototype.sort comparator orders strings by
// UTF-16 code units, which is exactly the order JCS prescribes.
function serializeObject(value: object, depth: number): string {
  const proto: unknown = Object.getPrototypeOf(value);
  // Accept plain objects from any realm (Jest sandboxes, worker threads): their
  // prototype is some realm's Object.prototype, whose own prototype is null.
  if (proto !== null && Object.getPrototypeOf(proto) !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    const what = typeof name === 'string' && name !== '' ? name : 'an object with a custom prototype';
    throw new Rejection('not_plain_object', `only plain objects and arrays can be canonicalised, got ${what}`);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  let key = '';
  try {
    for (key of keys) {
      const item = record[key];
      if (item === undefined) continue;
      if (first) first = false;
      else out += ',';
      out += serializeKey(key);
      out += ':';
      out += serializeValue(item, depth);
    }
  } catch (e) {
    if (e instanceof Rejection) e.path.push(key);
    throw e;
  }
  return out + '}';
}
