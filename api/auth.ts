import type { Middleware } from 'koa';
import type pg from 'pg';
import { authenticateApiKey, grants, type Permission, type Principal } from '../store/mod.ts';
import { forbidden, unauthenticated } from './errors.ts';
import type { TimingState } from './timing.ts';

export interface AuthState extends Partial<TimingState> { principal: Principal }

/**
 * Requires a valid `Authorization: Bearer <key>` holding `permission`: 401 for a missing,
 * malformed, unknown or revoked key; 403 for a key without the permission.
 */
export function requireKey(pool: pg.Pool, permission: Permission): Middleware<AuthState> {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match ? await authenticateApiKey(pool, match[1]!) : undefined;
    if (!principal) throw unauthenticated();
    if (!grants(principal.permissions, permission)) {
      throw forbidden(`This API key lacks the '${permission}' permission.`);
    }
    ctx.state.principal = principal;
    ctx.state.timing?.lap('auth');
    await next();
  };
}
