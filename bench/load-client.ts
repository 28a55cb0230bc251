/**
 * The ingest benchmark's HTTP clients, run in a process of their own (`loadInChild`).
 *
 * In the benchmark's main process they shared a heap of 550–600 MB (the workflow bundler, 145,000
 * generated events), whose garbage collector paused them all at once, so that every request in
 * flight looked slower: during the single-event phases, 93 pauses took 914 ms, 75 of them over
 * 5 ms, the longest 25 ms (`node --trace-gc`). Real clients are separate programs. In its own
 * process, with a young generation big enough for a closed loop's requests in flight, the
 * closed-loop client paused 29 times for 424 ms in all, the longest 7 ms, and the open loop's 35
 * times for 57 ms.
 */
import { fork } from 'node:child_process';
import http from 'node:http';

/**
 * A request as the client saw it: status, latency, the server's own stages (Server-Timing, ms),
 * and how long it waited before the server took it up (`before`: the server's start time, same
 * machine and clock, minus when it was sent).
 */
export interface Sample { status: number; ms: number; stages: Record<string, number>; before?: number }

/** Closed loop: `clients` clients, each sending its next body as soon as the last is answered. */
export interface ClosedLoop { kind: 'closed'; apiUrl: string; key: string; path: string; bodies: string[]; clients: number }
/**
 * Open loop: sends requests at a fixed rate whatever the answers' latency (as independent users
 * do), so the latency measured is that at this rate, not the queueing of a saturated closed loop.
 */
export interface OpenLoop { kind: 'open'; apiUrl: string; key: string; path: string; bodies: string[]; rate: number }
export type LoadJob = ClosedLoop | OpenLoop;

/** Latencies sorted; `cpuSeconds`: what the client process used for the load (user + system). */
export interface LoadResult { seconds: number; latencies: number[]; samples: Sample[]; cpuSeconds: number }

function parseServerTiming(header: string | undefined): { stages: Record<string, number>; start?: number } {
  const stages: Record<string, number> = {};
  let start: number | undefined;
  for (const part of (header ?? '').split(',')) {
    const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
    if (m) stages[m[1]!] = Number(m[2]);
    const s = /^\s*start;desc="([\d.]+)"/.exec(part);
    if (s) start = Number(s[1]);
  }
  return { stages, start };
}

/** POSTs with node:http and a keep-alive agent: far cheaper per request than fetch, so the client does not eat the server's CPU. */
function post(agent: http.Agent, url: URL, key: string, body: string): Promise<Sample> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.once('end', () => {
        const { stages, start } = parseServerTiming(res.headers['server-timing'] as string | undefined);
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, stages, before: start === undefined ? undefined : start - (performance.timeOrigin + t0) });
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Runs a load in this process; every answer must be 202. */
export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.kind === 'closed' ? job.clients : 256 });
  const url = new URL(`${job.apiUrl}${job.path}`);
  const latencies: number[] = [];
  const samples: Sample[] = [];
  const record = (sample: Sample) => {
    if (sample.status !== 202) throw new Error(`unexpected ${sample.status}`);
    latencies.push(sample.ms);
    samples.push(sample);
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  if (job.kind === 'closed') {
    let next = 0;
    await Promise.all(Array.from({ length: job.clients }, async () => {
      while (next < job.bodies.length) record(await post(agent, url, job.key, job.bodies[next++]!));
    }));
  } else {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < job.bodies.length; i++) {
      const wait = started + (i * 1000) / job.rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      sends.push(post(agent, url, job.key, job.bodies[i]!).then(record));
    }
    await Promise.all(sends);
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { seconds, latencies: latencies.sort((a, b) => a - b), samples, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** Runs a load in a fresh process of its own, and returns what it measured. */
export async function loadInChild(job: LoadJob): Promise<LoadResult> {
  // A 64 MB young generation: half the closed loop's collector pauses of the default (65 pauses,
  // 802 ms in all, the longest 10 ms).
  const child = fork(import.meta.filename, {
    serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, '--max-semi-space-size=64'],
  });
  return await new Promise((resolve, reject) => {
    child.once('message', (message: { result?: LoadResult; error?: string }) => {
      if (message.result) resolve(message.result);
      else reject(new Error(`the load client failed: ${message.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the load client exited (${code}) without a result`)));
    child.once('error', reject);
    child.send(job);
  });
}

// The child's side: one job, its result, exit.
if (process.argv[1] === import.meta.filename && process.send) {
  process.once('message', (job: LoadJob) => {
    runLoad(job).then((result) => ({ result }), (error: unknown) => ({ error: (error as Error).message }))
      .then((message) => process.send!(message, () => process.exit(0)));
  });
}
