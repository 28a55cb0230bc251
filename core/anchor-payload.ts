/**
 * The calldata of a daily anchor transaction, version 1 (docs/integrity.md, "The
 * transaction").
 *
 * A plain 0-value transaction from the anchoring account to itself whose data is this fixed
 * 50-byte payload. No contract means nothing to deploy or trust per chain, the cheapest gas
 * on Base, and a check that needs one `eth_getTransactionByHash`: a verifier reads the root
 * from the transaction itself rather than from a contract's storage or logs.
 *
 *   offset  size  field
 *   0       9     magic, ASCII "SEALTRAIL"
 *   9       1     payload version, 0x01
 *   10      32    global root (raw bytes)
 *   42      4     UTC day anchored, days since 1970-01-01, unsigned big-endian
 *   46      4     global tree size (number of workspace anchors), unsigned big-endian
 */
import { dayOfEpochDay } from './anchor.ts';

export const ANCHOR_PAYLOAD_MAGIC = 'SEALTRAIL';
export const ANCHOR_PAYLOAD_VERSION = 1;
export const ANCHOR_PAYLOAD_LENGTH = 50;

const MAGIC_BYTES = Buffer.from(ANCHOR_PAYLOAD_MAGIC, 'ascii');
const UINT32_MAX = 0xffff_ffff;

/** What the payload carries. */
export interface AnchorPayload {
  /** Global root, 64 lowercase hex. */
  globalRoot: string;
  /** The UTC day anchored, `YYYY-MM-DD`. */
  day: string;
  /** Leaves of the global tree. */
  treeSize: number;
}

export type AnchorPayloadErrorCode = 'not_an_anchor' | 'unsupported_version' | 'malformed_payload';
export type AnchorPayloadFailure = { ok: false; code: AnchorPayloadErrorCode; message: string };

/**
 * Encodes the payload as `0x`-prefixed hex calldata.
 *
 * @example encodeAnchorPayload({ globalRoot, day: '2026-03-15', treeSize: 3 }) // => '0x5345414c545241494c01…'
 */
export function encodeAnchorPayload({ globalRoot, day, treeSize }: AnchorPayload): `0x${string}` {
  if (!/^[0-9a-f]{64}$/.test(globalRoot)) throw new TypeError('globalRoot must be 64 lowercase hex characters');
  const epochDay = Date.parse(`${day}T00:00:00Z`) / 86_400_000;
  if (!Number.isInteger(epochDay) || epochDay < 0 || epochDay > UINT32_MAX) throw new TypeError(`day must be a UTC date YYYY-MM-DD; got ${day}`);
  if (!Number.isInteger(treeSize) || treeSize < 1 || treeSize > UINT32_MAX) throw new TypeError(`treeSize must be an integer in [1, 2^32); got ${treeSize}`);
  const out = Buffer.alloc(ANCHOR_PAYLOAD_LENGTH);
  MAGIC_BYTES.copy(out, 0);
  out[9] = ANCHOR_PAYLOAD_VERSION;
  Buffer.from(globalRoot, 'hex').copy(out, 10);
  out.writeUInt32BE(epochDay, 42);
  out.writeUInt32BE(treeSize, 46);
  return `0x${out.toString('hex')}`;
}

/**
 * Decodes transaction calldata. Anything that is not exactly a version-1 payload fails with
 * a code: `not_an_anchor` (no magic), `unsupported_version`, `malformed_payload` (wrong
 * length or a bad hex string).
 *
 * @example decodeAnchorPayload(tx.input) // => { ok: true, globalRoot, day: '2026-03-15', treeSize: 3 }
 */
export function decodeAnchorPayload(calldata: string): ({ ok: true } & AnchorPayload) | AnchorPayloadFailure {
  const hex = calldata.startsWith('0x') ? calldata.slice(2).toLowerCase() : calldata.toLowerCase();
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) return { ok: false, code: 'malformed_payload', message: 'transaction data is not hex' };
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length < MAGIC_BYTES.length + 1 || !bytes.subarray(0, MAGIC_BYTES.length).equals(MAGIC_BYTES)) {
    return { ok: false, code: 'not_an_anchor', message: `transaction data does not start with the ${ANCHOR_PAYLOAD_MAGIC} anchor magic` };
  }
  if (bytes[9] !== ANCHOR_PAYLOAD_VERSION) {
    return { ok: false, code: 'unsupported_version', message: `anchor payload version ${bytes[9]} is not supported (this verifier knows ${ANCHOR_PAYLOAD_VERSION})` };
  }
  if (bytes.length !== ANCHOR_PAYLOAD_LENGTH) {
    return { ok: false, code: 'malformed_payload', message: `anchor payload is ${bytes.length} bytes, expected ${ANCHOR_PAYLOAD_LENGTH}` };
  }
  return {
    ok: true,
    globalRoot: bytes.subarray(10, 42).toString('hex'),
    day: dayOfEpochDay(bytes.readUInt32BE(42)),
    treeSize: bytes.readUInt32BE(46),
  };
}
