import type { Middleware, Next, ParameterizedContext } from 'koa';
import type pg from 'pg';
import { apiKeyDigest, authenticateApiKey, grants, recordApiKeyUse, type Permission, type Principal } from '../store/mod.ts';
import { forbidden, unauthenticated } from './errors.ts';
import type { TimingState } from './timing.ts';

export interface AuthState extends Partial<TimingState> {
  principal: Principal;
  /** Set when the key was not looked up on arrival: the write must check it (see `checkAtWrite`). */
  uncheckedKeyId?: string;
}

/**
 * Keys seen valid, by SHA-256 of the whole key, per database: which workspace a key belongs to and
 * what it may do never change, only whether it is revoked. Bounded; cleared when full.
 */
const seen = new WeakMap<pg.Pool, Map<string, Principal>>();
const SEEN_LIMIT = 10_000;

function seenKeys(pool: pg.Pool): Map<string, Principal> {
  let keys = seen.get(pool);
  if (!keys) seen.set(pool, keys = new Map());
  return keys;
}

/**
 * Requires a valid `Authorization: Bearer <key>` holding `permission`: 401 for a missing,
 * malformed, unknown or revoked key; 403 for a key without the permission. The key is checked
 * against the database on every request, so a revocation holds from the next request on.
 *
 * With `overlap` (read-only routes only), a key seen valid before lets the handler run while its
 * check is in flight, so a read costs one database round trip, not two. The answer still waits
 * for the check: a key revoked meanwhile gets its 401 and the handler's result is thrown away.
 *
 * With `checkAtWrite` (ingestion), a key seen valid before is not looked up at all: the handler
 * finds its id in `ctx.state.uncheckedKeyId` and must have the durable write check it (the group
 * commit does, in the transaction that writes). A 401 from there makes this key be looked up again
 * next time. Such a request that is malformed gets its 400/413/422 before any 401.
 */
export function requireKey(pool: pg.Pool, permission: Permission, options: { overlap?: boolean; checkAtWrite?: boolean } = {}): Middleware<AuthState> {
  return async (ctx, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
    const key = match?.[1];
    const digest = key === undefined ? undefined : apiKeyDigest(key);
    const id = digest?.toString('hex');
    const known = id === undefined ? undefined : seenKeys(pool).get(id);
    if (options.overlap && known && grants(known.permissions, permission)) {
      await overlapped(ctx, next, { pool, key: key!, digest: digest!, id: id!, known, permission });
      return;
    }
    if (options.checkAtWrite && known && grants(known.permissions, permission)) {
      ctx.state.principal = known;
      ctx.state.uncheckedKeyId = known.keyId;
      recordApiKeyUse(pool, known.keyId);
      ctx.state.timing?.lap('auth');
      try {
        await next();
      } catch (error) {
        if ((error as { status?: number }).status === 401) seenKeys(pool).delete(id!);
        throw error;
      }
      return;
    }
    const principal = key === undefined ? undefined : await authenticateApiKey(pool, key, digest);
    if (!principal) throw unauthenticated();
    if (!grants(principal.permissions, permission)) throw lacks(permission);
    const keys = seenKeys(pool);
    if (keys.size >= SEEN_LIMIT) keys.clear();
    keys.set(id!, principal);
    ctx.state.principal = principal;
    ctx.state.timing?.lap('auth');
    await next();
  };
}

/**
 * Runs the handler while the key's check is in flight, then answers only if the check passed.
 * When it did not, nothing the handler did shows (neither its body nor its headers), the key is
 * forgotten as soon as its check fails, and the answer is the one a first request would get.
 */
async function overlapped(ctx: ParameterizedContext<AuthState>, next: Next, o: { pool: pg.Pool; key: string; digest: Buffer; id: string; known: Principal; permission: Permission }): Promise<void> {
  const check = authenticateApiKey(o.pool, o.key, o.digest).then((checked) => {
    if (!sameKey(checked, o.known) || !grants(checked!.permissions, o.permission)) seenKeys(o.pool).delete(o.id);
    return checked;
  });
  ctx.state.principal = o.known;
  const [checked, handled] = await Promise.allSettled([check, next()]);
  const passed = checked.status === 'fulfilled' && sameKey(checked.value, o.known) && grants(checked.value!.permissions, o.permission);
  if (!passed) {
    ctx.body = undefined;
    for (const name of ctx.res.getHeaderNames()) ctx.remove(name);
    if (checked.status === 'rejected') throw checked.reason;
    throw checked.value && sameKey(checked.value, o.known) ? lacks(o.permission) : unauthenticated();
  }
  if (handled.status === 'rejected') throw handled.reason;
}

function sameKey(checked: Principal | undefined, known: Principal): boolean {
  return checked !== undefined && checked.keyId === known.keyId && checked.workspaceId === known.workspaceId;
}

function lacks(permission: Permission) {
  return forbidden(`This API key lacks the '${permission}' permission.`);
}
