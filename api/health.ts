import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type pg from 'pg';

async function probe(check: () => Promise<unknown>, timeoutMs = 2000): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), timeoutMs); });
  try { await Promise.race([check(), timeout]); return 'up'; } catch { return 'down'; } finally { clearTimeout(timer); }
}

/** `GET /health`: whether PostgreSQL and Temporal answer. 200 when both do, else 503. */
export function healthRoutes(pool: pg.Pool, temporal: Client): Router {
  const router = new Router();
  router.get('/health', async (ctx) => {
    const [postgres, temporalState] = await Promise.all([
      probe(() => pool.query('SELECT 1')),
      probe(() => temporal.connection.workflowService.getSystemInfo({})),
    ]);
    const ok = postgres === 'up' && temporalState === 'up';
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ok' : 'degraded', postgres, temporal: temporalState };
  });
  return router;
}
