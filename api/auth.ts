import type { Middleware, Next, ParameterizedContext } from 'koa';
import type pg from 'pg';
import { apiKeyDigest, authenticateApiKey, grants, recordApiKeyUse, type Permission, type Principal } from '../store/mod.ts';
import { forbidden, unauthenticated } from './errors.ts';
import type { TimingState } from './timing.ts';

export interface AuthState extends Partial<TimingState> {
  principal: Principal;
  /** Set when the key was not looked up on arrival: the write must check it (see `checkAtWrite`), a read may (see `checkInRead`). */
  uncheckedKeyId?: string;
  /** Set by a read that checked `uncheckedKeyId` in a statement it runs anyway: whether the key was unrevoked then. */
  keyValid?: boolean;
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
 * With `checkInRead` (read-only routes only), a key seen valid before is not looked up on arrival
 * either: the handler finds its id in `ctx.state.uncheckedKeyId`, may check it in a statement it
 * runs anyway and report the outcome in `ctx.state.keyValid`. A read then costs one round trip
 * less, and nothing weaker: the key is checked after the request arrived, before any answer. When
 * the handler did not report (it failed early, or found nothing to read the check with), the key
 * is looked up once the handler is done. A key found revoked gets its 401 and nothing the handler
 * did shows, as with `overlap`.
 *
 * With `checkAtWrite` (ingestion), a key seen valid before is not looked up at all: the handler
 * finds its id in `ctx.state.uncheckedKeyId` and must have the durable write check it (the group
 * commit does, in the transaction that writes). A 401 from there makes this key be looked up again
 * next time. Such a request that is malformed gets its 400/413/422 before any 401.
 */
export function requireKey(pool: pg.Pool, permission: Permission, options: { overlap?: boolean; checkInRead?: boolean; checkAtWrite?: boolean } = {}): Middleware<AuthState> {
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
    if (options.checkInRead && known && grants(known.permissions, permission)) {
      await checkedInRead(ctx, next, { pool, key: key!, digest: digest!, id: id!, known, permission });
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

interface KnownKey { pool: pg.Pool; key: string; digest: Buffer; id: string; known: Principal; permission: Permission }

/**
 * Runs the handler while the key's check is in flight, then answers only if the check passed.
 * When it did not, nothing the handler did shows (see {@link refuse}).
 */
async function overlapped(ctx: ParameterizedContext<AuthState>, next: Next, o: KnownKey): Promise<void> {
  ctx.state.principal = o.known;
  const [checked, handled] = await Promise.allSettled([lookUp(o), next()]);
  if (checked.status === 'rejected') throw hide(ctx, checked.reason);
  if (!checked.value.valid) throw refuse(ctx, o, checked.value);
  if (handled.status === 'rejected') throw handled.reason;
}

/** Runs a read that may check its known key itself (see `checkInRead`), and looks the key up afterwards if it did not. */
async function checkedInRead(ctx: ParameterizedContext<AuthState>, next: Next, o: KnownKey): Promise<void> {
  ctx.state.principal = o.known;
  ctx.state.uncheckedKeyId = o.known.keyId;
  ctx.state.timing?.lap('auth');
  let failure: { error: unknown } | undefined;
  try {
    await next();
  } catch (error) {
    failure = { error };
  }
  const checked: { valid: boolean; lacksPermission?: boolean } = ctx.state.keyValid === undefined ? await lookUp(o).catch((error) => { throw hide(ctx, error); }) : { valid: ctx.state.keyValid };
  if (!checked.valid) throw refuse(ctx, o, checked);
  if (failure) throw failure.error;
}

/** Looks a known key up again: whether it still holds the permission (or exists, but lacks it). */
async function lookUp(o: KnownKey): Promise<{ valid: boolean; lacksPermission: boolean }> {
  const checked = await authenticateApiKey(o.pool, o.key, o.digest);
  const same = sameKey(checked, o.known);
  return { valid: same && grants(checked!.permissions, o.permission), lacksPermission: same };
}

/**
 * The answer to a known key found invalid: the key is forgotten, nothing the handler did shows
 * (neither its body nor its headers), and the error is the one a first request would get.
 */
function refuse(ctx: ParameterizedContext<AuthState>, o: KnownKey, checked: { lacksPermission?: boolean }): unknown {
  seenKeys(o.pool).delete(o.id);
  return hide(ctx, checked.lacksPermission ? lacks(o.permission) : unauthenticated());
}

/** Drops what the handler set (body and headers) and returns `error` to be thrown instead. */
function hide(ctx: ParameterizedContext<AuthState>, error: unknown): unknown {
  ctx.body = undefined;
  for (const name of ctx.res.getHeaderNames()) ctx.remove(name);
  return error;
}

function sameKey(checked: Principal | undefined, known: Principal): boolean {
  return checked !== undefined && checked.keyId === known.keyId && checked.workspaceId === known.workspaceId;
}

function lacks(permission: Permission) {
  return forbidden(`This API key lacks the '${permission}' permission.`);
}
