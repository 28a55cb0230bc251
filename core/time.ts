/**
 * Timestamps with microsecond precision, as the API and the hash chain use them
 * (`2026-03-15T14:32:18.847312Z`). JavaScript's Date keeps only milliseconds, so instants are
 * carried as bigint microseconds since the Unix epoch.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Earliest and latest accepted instants: years 1970 to 9999, which every store represents exactly. */
const MIN_MICROS = 0n;
const MAX_MICROS = 253_402_300_799_999_999n;

/**
 * Parses an ISO 8601 timestamp with a zone (`Z` or `±hh:mm`) into epoch microseconds, or returns
 * undefined when it is not one. Digits beyond the microsecond are truncated.
 *
 * ```ts
 * parseTimestamp('2026-03-15T14:32:18.847312Z'); // 1773585138847312n
 * ```
 */
export function parseTimestamp(text: string): bigint | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  // Date.UTC would roll 12:23:99 over into 12:24:39 too; leap seconds (:60) are not representable.
  if (Number(mi) > 59 || Number(s) > 59) return undefined;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  // Date.UTC rolls 2026-02-30 over into March; a real calendar date survives the round trip.
  if (Number.isNaN(ms) || check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCHours() !== Number(h) || Number(y) < 1000) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    const [oh, om] = zone!.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const micros = BigInt(ms - offsetMinutes * 60_000) * 1000n + BigInt(frac.padEnd(6, '0').slice(0, 6));
  return micros >= MIN_MICROS && micros <= MAX_MICROS ? micros : undefined;
}

/** Formats epoch microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export function formatTimestamp(micros: bigint): string {
  const ms = micros / 1000n;
  const base = new Date(Number(ms)).toISOString(); // 2026-03-15T14:32:18.847Z
  return `${base.slice(0, 19)}.${String(micros % 1_000_000n).padStart(6, '0')}Z`;
}

/** Normalises any accepted ISO 8601 timestamp to the canonical UTC microsecond form. */
export function normalizeTimestamp(text: string): string | undefined {
  const micros = parseTimestamp(text);
  return micros === undefined ? undefined : formatTimestamp(micros);
}

const epochOffsetMicros = BigInt(Date.now()) * 1000n - process.hrtime.bigint() / 1000n;

/** The current time in epoch microseconds, monotonic within this process. */
export function nowMicros(): bigint {
  return epochOffsetMicros + process.hrtime.bigint() / 1000n;
}
