import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';

export const PERMISSIONS = ['ingest', 'read', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const KEY_PREFIX = 'stk_';
/** The lookup prefix: `stk_` plus the first 8 characters of the secret part. */
const LOOKUP_LENGTH = KEY_PREFIX.length + 8;

export interface ApiKeyRecord {
  id: string;
  workspace_id: string;
  name: string;
  prefix: string;
  permissions: Permission[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CreatedApiKey extends ApiKeyRecord { key: string }

/** What a valid key grants: its workspace and permissions. */
export interface Principal { keyId: string; workspaceId: string; permissions: Permission[] }

/** The SHA-256 of a whole key: what is stored of it, and what a caller may cache it by. */
export function apiKeyDigest(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

/** `admin` implies every other permission. */
export function grants(permissions: readonly Permission[], needed: Permission): boolean {
  return permissions.includes('admin') || permissions.includes(needed);
}

/**
 * Creates an API key. The full key is returned once, here; only its SHA-256 hash and a short
 * lookup prefix are stored.
 *
 * ```ts
 * const { key } = await createApiKey(pool, { workspaceId, name: 'backend', permissions: ['ingest'] });
 * ```
 */
export async function createApiKey(
  pool: pg.Pool,
  input: { workspaceId: string; name: string; permissions: readonly Permission[] },
): Promise<CreatedApiKey> {
  for (let attempt = 0; ; attempt++) {
    const key = KEY_PREFIX + randomBytes(30).toString('base64url');
    try {
      const { rows } = await pool.query<ApiKeyRecord>(
        `INSERT INTO api_keys (id, workspace_id, name, prefix, secret_hash, permissions)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, workspace_id, name, prefix, permissions, created_at, last_used_at, revoked_at`,
        [crypto.randomUUID(), input.workspaceId, input.name, key.slice(0, LOOKUP_LENGTH), apiKeyDigest(key), [...new Set(input.permissions)]],
      );
      return { ...rows[0]!, key };
    } catch (error) {
      // A prefix collision (one in ~10^14) just draws a new key.
      if ((error as { code?: string }).code === '23505' && attempt < 3) continue;
      throw error;
    }
  }
}

export async function listApiKeys(pool: pg.Pool, workspaceId: string): Promise<ApiKeyRecord[]> {
  const { rows } = await pool.query<ApiKeyRecord>(
    `SELECT id, workspace_id, name, prefix, permissions, created_at, last_used_at, revoked_at
       FROM api_keys WHERE workspace_id = $1 ORDER BY created_at`,
    [workspaceId],
  );
  return rows;
}

/** Revokes a key at once; returns false when the workspace has no such key. */
export async function revokeApiKey(pool: pg.Pool, workspaceId: string, keyId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE workspace_id = $1 AND id = $2',
    [workspaceId, keyId],
  );
  return rowCount === 1;
}

/**
 * A boolean SQL expression: every key whose id is in the uuid[] parameter `keyIds` (e.g. `$3`,
 * distinct ids) exists and is not revoked. A request by a key seen valid before has it checked by a statement it
 * runs anyway, so the check costs no round trip of its own: the inbox write of ingestion, the
 * count of a read (see `uncheckedKeyId` in api/auth.ts).
 */
export function keysStillValid(keyIds: string): string {
  return `(SELECT count(*) FROM api_keys WHERE id = ANY(${keyIds}::uuid[]) AND revoked_at IS NULL) = cardinality(${keyIds}::uuid[])`;
}

/**
 * Resolves a presented key to its principal, or undefined for a malformed, unknown or revoked key.
 * Every call reads the database, so a revocation takes effect on the very next request. `digest`:
 * the key's {@link apiKeyDigest}, when the caller has it already.
 */
export async function authenticateApiKey(pool: pg.Pool, key: string, digest = apiKeyDigest(key)): Promise<Principal | undefined> {
  if (!key.startsWith(KEY_PREFIX) || key.length < LOOKUP_LENGTH || key.length > 128) return undefined;
  const { rows } = await pool.query<{ id: string; workspace_id: string; permissions: Permission[]; secret_hash: Buffer; last_used_at: string | null }>(
    `SELECT id, workspace_id, permissions, secret_hash, last_used_at
       FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL`,
    [key.slice(0, LOOKUP_LENGTH)],
  );
  const row = rows[0];
  if (!row || !timingSafeEqual(row.secret_hash, digest)) return undefined;
  recordUse(pool, row.id, row.last_used_at === null ? 0 : Date.parse(row.last_used_at));
  return { keyId: row.id, workspaceId: row.workspace_id, permissions: row.permissions };
}

/**
 * Notes a use of a key the caller has seen valid and does not look up again (ingestion checks
 * a known key inside its write instead), on the same terms as a lookup.
 */
export function recordApiKeyUse(pool: pg.Pool, keyId: string): void {
  recordUse(pool, keyId, 0);
}

const USE_RECORD_INTERVAL_MS = 60_000;
/** When each key's last_used_at was last known to be refreshed, in this process (ms). */
const refreshed = new Map<string, number>();

// last_used_at is advisory: refreshed at most once a minute per key, off the request's path.
function recordUse(pool: pg.Pool, keyId: string, lastUsedAt: number): void {
  const now = Date.now();
  const known = refreshed.get(keyId) ?? 0;
  const last = Math.max(lastUsedAt, known);
  if (now - last < USE_RECORD_INTERVAL_MS) {
    // Ingestion calls this on every request: the map changes only when a lookup brings news.
    if (last !== known) remember(keyId, last);
    return;
  }
  remember(keyId, now);
  pool.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND revoked_at IS NULL', [keyId]).catch(() => {});
}

/** Keeps a key's refresh time; at 10,000 keys the map starts over (forgetting costs one early refresh). */
function remember(keyId: string, refreshedAt: number): void {
  if (refreshed.size >= 10_000 && !refreshed.has(keyId)) refreshed.clear();
  refreshed.set(keyId, refreshedAt);
}
