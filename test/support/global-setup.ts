/**
 * Starts the real dependencies once per test run: an embedded PostgreSQL (with a migrated
 * template database that each test file clones) and a Temporal dev server, and bundles the
 * workflows once. Their coordinates go to a file named by SEALTRAIL_TEST_RUNTIME.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, startLocalEvmNode, startTemporalDevServer } from '../../stack/mod.ts';
import { createPool, migrate } from '../../store/mod.ts';
import { bundleWorkflows } from '../../worker/mod.ts';
import { freePort, PROJECT_ROOT, TEMPLATE_DB, type TestRuntime } from './runtime.ts';

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sealtrail-test-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own OS user when we are root: it must reach its folder.
  const [pgPort, temporalPort, uiPort, evmPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const [pg, temporal, bundle, evm] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: pgPort, logFile: join(dir, 'postgres.log'), database: TEMPLATE_DB,
      // Test databases are thrown away: durability settings only slow the suite down.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } }),
    startTemporalDevServer({ cli: process.env.TEMPORAL_CLI, toolsDir: join(PROJECT_ROOT, '.tools'), dbFile: join(dir, 'temporal.db'),
      port: temporalPort, uiPort, namespace: 'default', logFile: join(dir, 'temporal.log'), pidFile: join(dir, 'temporal.pid') }),
    bundleWorkflows(),
    // One local chain per run; each test context signs with its own funded account.
    startLocalEvmNode({ port: evmPort, logFile: join(dir, 'evm.log'), pidFile: join(dir, 'evm.pid'), stateDir: join(dir, 'evm') }),
  ]);
  const pool = createPool(pg.url, { max: 1 });
  await migrate(pool);
  await pool.end();
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const runtime: TestRuntime = { dir, adminUrl: pg.adminUrl, templateUrl: pg.url, temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, bundlePath, evmRpcUrl: evm.rpcUrl };
  const runtimeFile = join(dir, 'runtime.json');
  writeFileSync(runtimeFile, JSON.stringify(runtime));
  process.env.SEALTRAIL_TEST_RUNTIME = runtimeFile;
  (globalThis as Record<string, unknown>).__sealtrailStop = async () => { await evm.stop(); await temporal.stop(); await pg.stop(); };
}
