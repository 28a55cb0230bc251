/**
 * Per-client rate limit for the public, unauthenticated endpoints: an in-memory token bucket
 * per IP address. In-memory is enough here: each API process limits its own share, and the
 * buckets only have to stop one client from hammering verification.
 */
import type { Middleware } from 'koa';
import { ApiError } from '../errors.ts';

export interface RateLimit { perMinute: number; burst: number }

interface Bucket { tokens: number; at: number }

/** Buckets idle this long are full again and can be forgotten. */
const SWEEP_EVERY = 10_000;

/**
 * Allows `burst` requests at once per client IP, refilled at `perMinute`; beyond that, 429
 * `rate_limited` with `Retry-After` (seconds until one request is allowed again).
 *
 * ```ts
 * router.get('/api/v1/public/anchors/lookup', rateLimitByIp({ perMinute: 60, burst: 20 }), handler);
 * ```
 */
export function rateLimitByIp(limit: RateLimit, now: () => number = Date.now): Middleware {
  const buckets = new Map<string, Bucket>();
  const perMs = limit.perMinute / 60_000;
  let requests = 0;
  return async (ctx, next) => {
    const t = now();
    if (++requests % SWEEP_EVERY === 0) {
      for (const [ip, b] of buckets) if (b.tokens + (t - b.at) * perMs >= limit.burst) buckets.delete(ip);
    }
    const ip = ctx.ip || 'unknown';
    const bucket = buckets.get(ip) ?? { tokens: limit.burst, at: t };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
    buckets.set(ip, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      throw new ApiError(429, 'rate_limited', `Too many requests from this address; retry in ${retryAfter} s.`, { headers: { 'Retry-After': String(retryAfter) } });
    }
    bucket.tokens -= 1;
    await next();
  };
}
