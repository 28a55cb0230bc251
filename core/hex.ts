/**
 * Hex and SHA-256 helpers shared by the integrity code.
 *
 * Hashes travel as lowercase hex everywhere in Sealtrail (API, database, proofs), so
 * decoding is strict: accepting upper case or odd lengths would let two different
 * strings name the same hash, and stored hashes are compared as strings.
 */
import { hash } from 'node:crypto';

/** Thrown when a string is not strict lowercase hex; `code` is always `'invalid_hex'`. */
export class HexError extends TypeError {
  readonly code = 'invalid_hex';
  constructor(message: string) {
    super(message);
    this.name = 'HexError';
  }
}

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Encode bytes as lowercase hex.
 *
 * @example toHex(new Uint8Array([0, 171])) // => '00ab'
 */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Decode strict lowercase hex (even length, only `0-9a-f`) into bytes; anything else
 * throws a {@link HexError}, because `Buffer.from(s, 'hex')` silently stops at the first
 * bad character and would turn a typo into a different hash.
 *
 * @example fromHex('00ab') // => Uint8Array [0, 171]
 */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new HexError(`expected a hex string, got ${typeof hex}`);
  if (hex.length % 2 !== 0) throw new HexError(`hex string has odd length ${hex.length}`);
  if (!LOWER_HEX.test(hex)) {
    const at = hex.search(/[^0-9a-f]/);
    throw new HexError(`hex string has a character other than 0-9a-f (lowercase) at offset ${at}: ${JSON.stringify(hex[at])}`);
  }
  return Buffer.from(hex, 'hex');
}

/**
 * SHA-256 of bytes, or of a string's UTF-8 encoding; returns the 32-byte digest.
 *
 * @example toHex(sha256('')) // => 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  return hash('sha256', data, 'buffer');
}
