import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { required, type Config } from '../config/mod.ts';
import type { Logger } from '../log/mod.ts';
import { createPool } from '../store/mod.ts';
import { anchorChainFromConfig } from '../activities/anchoring/chain.ts';
import { createApp } from './app.ts';

export interface RunningApi { url: string; close(): Promise<void> }

/** Runs the API process: connects to PostgreSQL and Temporal from the configuration and listens. */
export async function serveApi(config: Config, log: Logger): Promise<RunningApi> {
  const pool = createPool(required(config.database.url, 'DATABASE_URL'), { max: config.database.poolSize, applicationName: 'sealtrail-api' });
  const connection = await Connection.connect({ address: required(config.temporal.address, 'TEMPORAL_ADDRESS') });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  // The API only reads the chain: it never gets the anchoring key.
  const anchoring = { chain: anchorChainFromConfig(config.anchor, false), publicRateLimit: config.publicRateLimit, scheduleMinute: config.anchor.scheduleMinute };
  const { koa, drain } = createApp({ pool, temporal, taskQueue: config.temporal.taskQueue, log, ingest: config.ingest, anchoring });
  const server: Server = await new Promise((resolve, reject) => {
    const s = koa.listen(config.api.port, config.api.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const url = `http://${config.api.host}:${config.api.port}`;
  log.info('api listening', { url });
  return {
    url,
    async close() {
      // Stop taking requests, let accepted ones finish their hand-off, then release connections.
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeIdleConnections(); });
      await drain();
      await connection.close();
      await pool.end();
    },
  };
}
