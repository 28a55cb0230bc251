import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

/**
 * Converts PostgreSQL's UTC text form (`2026-03-15 14:32:18.8473+00`) to the API's ISO 8601 form
 * with exactly six fractional digits (`2026-03-15T14:32:18.847300Z`). Microseconds survive, which a
 * JavaScript Date would drop.
 */
export function isoFromPgTimestamp(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/.exec(text);
  if (!match) throw new Error(`unexpected timestamptz text from PostgreSQL: ${text}`);
  return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(6, '0')}Z`;
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return isoFromPgTimestamp;
    // Sequence numbers and counts stay far below 2^53.
    if (oid === INT8_OID) return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface PoolOptions {
  /** Largest number of connections this process opens. */
  max?: number;
  /** Shown in pg_stat_activity, so an operator can tell the API from the worker. */
  applicationName?: string;
}

/**
 * Opens a connection pool whose sessions run in UTC and return timestamps as ISO strings with
 * microseconds and bigints as numbers.
 *
 * ```ts
 * const pool = createPool('postgres://postgres:postgres@127.0.0.1:54329/sealtrail');
 * ```
 */
export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'sealtrail',
    options: '-c TimeZone=UTC',
    types,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

export type { Pool, PoolClient } from 'pg';

/** Runs `work` in one transaction, committing on success and rolling back on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
