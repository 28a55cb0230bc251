import { createRequire } from 'node:module';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assertPortFree, spawnManaged, StartupError, stopStaleProcess, waitUntil } from './process.ts';

/** The project root, where hardhat.config.ts lives (Hardhat 3 finds its config from its cwd). */
const PROJECT_ROOT = join(import.meta.dirname, '..');

export interface LocalEvmNode {
  readonly rpcUrl: string;
  readonly chainId: number;
  stop(): Promise<void>;
}

export interface LocalEvmNodeOptions {
  port: number;
  logFile: string;
  pidFile: string;
  /** Where Hardhat may write its (empty) artifacts and cache. */
  stateDir: string;
}

function hardhatCli(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('hardhat/package.json')), 'dist', 'src', 'cli.js');
  } catch {
    throw new StartupError('the hardhat package is not installed (npm install); or set EVM_RPC_URL to an existing node.');
  }
}

/** JSON-RPC call with a short timeout, for readiness probes. */
async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(1000),
  });
  const body = await response.json() as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

/**
 * Starts a Hardhat 3 node (in-memory EVM, chain id 31337, funded development accounts) on
 * 127.0.0.1 and waits until it answers JSON-RPC. Its chain lives in memory: stopping it
 * forgets every block, which docs/integrity.md describes for anchors sent to it.
 *
 * ```ts
 * const evm = await startLocalEvmNode({ port: 8545, logFile: '.sealtrail/logs/evm.log', pidFile: '.sealtrail/evm.pid', stateDir: '.sealtrail/evm' });
 * ```
 */
export async function startLocalEvmNode(o: LocalEvmNodeOptions): Promise<LocalEvmNode> {
  await stopStaleProcess(o.pidFile, 'hardhat', 'a local EVM node');
  await assertPortFree(o.port, '127.0.0.1', 'the local EVM node', 'EVM_PORT');
  if (!existsSync(join(PROJECT_ROOT, 'hardhat.config.ts'))) throw new StartupError(`hardhat.config.ts is missing from ${PROJECT_ROOT}; or set EVM_RPC_URL to an existing node.`);
  const node = spawnManaged('evm', process.execPath, [hardhatCli(), 'node', '--hostname', '127.0.0.1', '--port', String(o.port)], {
    cwd: PROJECT_ROOT, logFile: o.logFile,
    env: { ...process.env, SEALTRAIL_EVM_DIR: o.stateDir, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', DO_NOT_TRACK: '1' },
  });
  writeFileSync(o.pidFile, String(node.child.pid));
  let exited = false;
  void node.exited.then(() => { exited = true; rmSync(o.pidFile, { force: true }); });
  const rpcUrl = `http://127.0.0.1:${o.port}`;
  let chainId = 0;
  try {
    await waitUntil(async () => {
      chainId = Number(await rpc(rpcUrl, 'eth_chainId'));
      return true;
    }, 60_000, () => `the local EVM node did not answer within 60 s; see ${o.logFile}`,
    () => exited ? new StartupError(`the local EVM node exited during start-up: ${node.tail()}`) : undefined);
  } catch (error) {
    await node.stop();
    throw error;
  }
  return { rpcUrl, chainId, stop: () => node.stop('SIGTERM', 10_000) };
}
