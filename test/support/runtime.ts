import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const TEMPLATE_DB = 'sealtrail_template';

/** Where the run's shared PostgreSQL and Temporal are, written by the global setup. */
export interface TestRuntime {
  dir: string;
  adminUrl: string;
  templateUrl: string;
  temporalAddress: string;
  temporalUiUrl: string;
  bundlePath: string;
  /** JSON-RPC URL of the run's local EVM node (Hardhat, chain id 31337). */
  evmRpcUrl: string;
}

export function readRuntime(): TestRuntime {
  const file = process.env.SEALTRAIL_TEST_RUNTIME;
  if (!file) throw new Error('SEALTRAIL_TEST_RUNTIME is not set: run the tests through jest (global setup starts the runtime)');
  return JSON.parse(readFileSync(file, 'utf8')) as TestRuntime;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
