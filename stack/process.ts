import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

/** A start-up failure the user can act on: its message is printed as one line, with no stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited, with its exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it wrote, for error messages. */
  tail(): string;
  /** Sends `signal`, then SIGKILL if it has not exited after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnManagedOptions extends Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid'> {
  /** Appends the child's stdout and stderr here. */
  logFile: string;
  /** Also give the child an IPC channel, so a Node child can notice when its parent is gone. */
  ipc?: boolean;
  /** Called with each chunk of output (e.g. to watch for a readiness line). */
  onOutput?: (text: string) => void;
}

/**
 * Spawns a child in its own process group, logging to a file. Its own group means a Ctrl-C in
 * the terminal reaches only the supervisor, which then stops the children in order.
 */
export function spawnManaged(name: string, command: string, args: readonly string[], options: SpawnManagedOptions): ManagedProcess {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(command, args, {
    env: options.env, cwd: options.cwd, uid: options.uid, gid: options.gid,
    detached: true,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let recent = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    const text = chunk.toString('utf8');
    recent = (recent + text).slice(-4000);
    options.onOutput?.(text);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => { recent += `\n${error.message}`; resolve({ code: -1, signal: null }); });
    child.once('exit', (code, signal) => { log.end(); resolve({ code, signal }); });
  });
  return {
    name, child, exited,
    tail: () => recent.trim().split('\n').slice(-15).join('\n'),
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Fails with a StartupError naming `what` and the variable to change when `port` is taken. */
export async function assertPortFree(port: number, host: string, what: string, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new StartupError(`port ${port} on ${host} is already in use; ${what} needs it. Stop whatever holds it, or set ${variable} to another port.`)
        : error);
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/**
 * Polls `probe` until it resolves truthy, or fails with `message` after `timeoutMs`. A probe that
 * throws counts as "not yet"; `failFast` returning an error (say, the process exited) ends the
 * wait at once.
 */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, message: () => string, failFast?: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const fatal = failFast?.();
    if (fatal) throw fatal;
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new StartupError(message());
}

/** True when a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** The command line of a running process, or '' when there is none (Linux /proc). */
export function commandLineOf(pid: number): string {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; }
}

/**
 * A server left running by a supervisor that was killed: if the pid in `pidFile` is alive and its
 * command line contains `marker` (so a reused pid is never signalled), stop it before starting
 * anew. `what` names it in the error when it will not stop.
 */
export async function stopStaleProcess(pidFile: string, marker: string, what: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && commandLineOf(pid).includes(marker)) {
    process.kill(pid, 'SIGTERM');
    await waitUntil(async () => !isAlive(pid), 15_000, () => `${what} left from an earlier run (pid ${pid}) did not stop; stop it by hand.`);
  }
  rmSync(pidFile, { force: true });
}
