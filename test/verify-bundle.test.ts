/**
 * The offline verifier as a user runs it: `sealtrail verify-bundle <file> --rpc <url>` on a
 * bundle downloaded from the API, checked against the real local chain, with no call to the
 * service. Each kind of tampering must be caught with its precise reason.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SLICE_FACTOR, RunSlicer } from '../cli/bundle-file.ts';
import { formatVerdict } from '../cli/bundle-slice.ts';
import { verifyBundleFile } from '../cli/verify-bundle.ts';
import { VerifierThreads } from '../cli/verifier-threads.ts';
import { verifyBundle } from '../core/mod.ts';
import type { StoredEvent } from '../store/mod.ts';
import { appendDay } from './anchor-fixtures.ts';
import { createTestContext, type TestContext } from './support/context.ts';
import { PROJECT_ROOT } from './support/runtime.ts';

let ctx: TestContext;
let dir: string;
let ws: { workspaceId: string; key: string };
let day1: StoredEvent[];
let bundle1: string[];
let bundle2: string[];

const DAY1 = '2026-03-02';
const DAY2 = '2026-03-03';

async function download(path: string): Promise<string> {
  const res = await fetch(`${ctx.apiUrl}${path}`, { headers: { authorization: `Bearer ${ws.key}` } });
  expect(res.status).toBe(200);
  return await res.text();
}

/** Runs the CLI on `lines` written to a file; resolves with its exit code and output. */
async function verify(lines: readonly string[], ...extra: string[]): Promise<{ code: number | null; out: string }> {
  const file = join(dir, `${crypto.randomUUID()}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'cli', 'main.ts'), 'verify-bundle', file, '--rpc', ctx.runtime.evmRpcUrl, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d; });
  child.stderr.on('data', (d: Buffer) => { out += d; });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

const edit = (lines: readonly string[], index: number, change: (line: any) => void) => {
  const copy = [...lines];
  const line = JSON.parse(copy[index]!);
  change(line);
  copy[index] = JSON.stringify(line);
  return copy;
};
/** `FAIL <line> <id>: code: message; code: message` → `FAIL <line> code code`. */
const codesOf = (line: string) => {
  const [, position] = /^FAIL (\d+) /.exec(line)!;
  return [`FAIL ${position}`, ...[...line.matchAll(/(?:^FAIL \d+ \S+: |; )([a-z_]+): /g)].map((m) => m[1])].join(' ');
};
const failLines = (out: string) => out.split('\n').filter((l) => l.startsWith('FAIL') || l.includes(': FAIL'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealtrail-bundle-'));
  ctx = await createTestContext({ anchoring: {} });
  ws = await ctx.workspace(['read']);
  // Several verifier slices (2,048 lines each), so slices are checked in parallel and joined.
  day1 = await appendDay(ctx.pool, ws.workspaceId, DAY1, 5000, 'd1');
  await appendDay(ctx.pool, ws.workspaceId, DAY2, 20, 'd2');
  await ctx.anchorDay(DAY1);
  await ctx.anchorDay(DAY2);
  const anchors = (await ctx.api(ws.key, '/api/v1/anchors')).body.data as Array<{ id: string }>;
  bundle2 = (await download(`/api/v1/anchors/${anchors[0]!.id}/bundle`)).trimEnd().split('\n');
  bundle1 = (await download(`/api/v1/anchors/${anchors[1]!.id}/bundle`)).trimEnd().split('\n');
}, 120_000);
afterAll(async () => {
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sealtrail verify-bundle', () => {
  it('accepts an intact day, printing a verdict per event, and exits 0', async () => {
    const { code, out } = await verify(bundle1);
    expect(out).toContain('header: ok');
    expect(out.split('\n').filter((l) => l.startsWith('ok   '))).toHaveLength(5000);
    expect(out).toContain(`ok   4999 ${day1[4999]!.id}`);
    expect(out).toMatch(/transaction: ok \(chain 31337, tx 0x[0-9a-f]{64}, block \d+/);
    expect(out).toContain('VALID: all 5000 events are intact');
    expect(code).toBe(0);
  });

  it('accepts the next day, linked to the previous anchor', async () => {
    const { code, out } = await verify(bundle2, '--quiet');
    expect(out).toContain('linked to previous anchor');
    expect(code).toBe(0);
  });

  it('catches a changed event, naming only that event', async () => {
    const { code, out } = await verify(edit(bundle1, 1 + 4500, (l) => { l.event.metadata.n = 'edited'; }), '--quiet', '--threads', '2');
    expect(code).toBe(1);
    expect(failLines(out)).toEqual([expect.stringMatching(new RegExp(`^FAIL 4500 ${day1[4500]!.id}: hash_mismatch: event fields hash to [0-9a-f]{64}, but the stored event_hash is ${day1[4500]!.event_hash}`))]);
  });

  it('catches a removed event by the broken link after the gap and the count', async () => {
    const lines = [...bundle1];
    lines.splice(1 + 100, 1);
    const { code, out } = await verify(lines, '--quiet');
    expect(code).toBe(1);
    expect(failLines(out)).toEqual([
      expect.stringMatching(new RegExp(`^FAIL 100 ${day1[101]!.id}: chain_break: .*an event was removed, inserted or moved before this one; missing_events: leaf 100 is missing before this event \\(leaf 101\\)$`)),
      'bundle: FAIL count_mismatch: the bundle has 4999 event(s); the anchor covers 5000: events were removed',
    ]);
  });

  it('catches a swapped pair across the boundary of two verifier slices', async () => {
    const lines = [...bundle1];
    [lines[1 + 4095], lines[1 + 4096]] = [lines[1 + 4096]!, lines[1 + 4095]!];
    const { code, out } = await verify(lines, '--quiet', '--threads', '2');
    expect(code).toBe(1);
    expect(failLines(out).map(codesOf)).toEqual([
      'FAIL 4095 chain_break missing_events', 'FAIL 4096 chain_break out_of_order', 'FAIL 4097 chain_break',
    ]);
  });

  it('catches a forged inclusion proof', async () => {
    const { code, out } = await verify(edit(bundle1, 1 + 2000, (l) => { l.inclusion.path[3] = 'ab'.repeat(32); }), '--quiet');
    expect(code).toBe(1);
    expect(failLines(out)).toEqual([expect.stringMatching(new RegExp(`^FAIL 2000 ${day1[2000]!.id}: inclusion_failed: event is not leaf 2000 of the anchored tree \\(root_mismatch\\)`))]);
  });

  it('catches an event whose proof leads to another root (another day\'s event slipped in)', async () => {
    const lines = [...bundle1];
    lines[1 + 4999] = bundle2[1 + 19]!;
    const { code, out } = await verify(lines, '--quiet');
    expect(code).toBe(1);
    const [line] = failLines(out);
    expect(line).toContain('outside_period');
    expect(line).toContain('tree_size_mismatch: proof is for a tree of 20 events; the anchor covers 5000');
    expect(out).toContain('bundle: FAIL last_event_mismatch');
  });

  it('catches a transaction that does not carry the global root', async () => {
    const otherTx = JSON.parse(bundle2[0]!).transaction.tx_hash;
    const { code, out } = await verify(edit(bundle1, 0, (h) => { h.transaction.tx_hash = otherTx; }), '--quiet');
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`transaction: FAIL tx_root_mismatch: transaction ${otherTx} carries global root [0-9a-f]{64}, not ${JSON.parse(bundle1[0]!).global.root}`));
    expect(out).toContain('transaction: FAIL tx_day_mismatch');
  });

  it('catches a transaction from another sender when the signer is pinned', async () => {
    const { code, out } = await verify(bundle2, '--quiet', '--signer', `0x${'12'.repeat(20)}`);
    expect(code).toBe(1);
    expect(out).toContain('transaction: FAIL tx_signer_mismatch');
  });

  it('reaches the same verdicts in one thread as in several', async () => {
    const lines = edit(bundle1, 1 + 4200, (l) => { l.event.action = 'document.restored'; });
    const [many, one] = [await verify(lines, '--quiet', '--threads', '2'), await verify(lines, '--quiet', '--threads', '1')];
    // The chain keeps mining while the two runs happen: only the confirmation count may differ.
    const settled = (r: { code: number | null; out: string }) => ({ ...r, out: r.out.replace(/\d+ confirmation\(s\)/, 'N confirmation(s)') });
    expect(settled(one)).toEqual(settled(many));
    expect(many.out).toContain(`FAIL 4200 ${day1[4200]!.id}: hash_mismatch`);
  });

  /** Runs the verifier in this process (to set what the CLI does not let one set); output with the confirmation count masked. */
  const runInProcess = async (lines: readonly string[], options: { threads: number; sliceBytes?: number; workerModule?: URL; trailingNewline?: boolean }) => {
    const file = join(dir, `${crypto.randomUUID()}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}${options.trailingNewline === false ? '' : '\n'}`);
    let out = '';
    const code = await verifyBundleFile({ file, rpc: ctx.runtime.evmRpcUrl, quiet: true, minConfirmations: 1, out: (text) => { out += text; }, ...options });
    return { code, out: out.replace(/\d+ confirmation\(s\)/, 'N confirmation(s)') };
  };
  /** The failing events' verdict lines of one BundleEventChecker fed every line in order (no slices, no threads). */
  const sequentialFailures = (lines: readonly string[]) => verifyBundle(JSON.parse(lines[0]!), lines.slice(1).map((l) => Buffer.from(l)))
    .verdicts.filter((v) => v.failures.length > 0).map(formatVerdict).join('');
  const eventFailures = (out: string) => out.split('\n').filter((l) => /^FAIL \d+ /.test(l)).map((l) => `${l}\n`).join('');

  it('cuts the file into slices by bytes anywhere, and still reaches the verdicts of one sequential check', async () => {
    const removed = [...bundle1];
    removed.splice(1 + 1500, 1);
    const junk = [...bundle1];
    junk.splice(1 + 2600, 0, `{"type":"event","junk":"${'x'.repeat(900_000)}"}`);
    const duplicated = [...bundle1];
    duplicated.splice(1 + 3000, 0, bundle1[1 + 3000]!);
    const variants: Array<[string, readonly string[]]> = [
      ['intact', bundle1],
      ['a changed event', edit(bundle1, 1 + 4200, (l) => { l.event.action = 'document.restored'; })],
      // A line mid-run that claims to start one: slices are cut there, and must not be joined as if it did.
      ['a line claiming a run start it is not at', edit(bundle1, 1 + 1000, (l) => { l.inclusion.leaf_index = 1024; })],
      ['a removed line (every later line one position early)', removed],
      ['a 900 kB line spanning several slices', junk],
      ['a duplicated line', duplicated],
      // No line claims a run start: the file cannot be cut, and is checked by one thread.
      ['every line in another member order', bundle1.map((line, i) => {
        if (i === 0) return line;
        const { event, ...rest } = JSON.parse(line);
        return JSON.stringify({ event, ...rest });
      })],
    ];
    for (const [what, lines] of variants) {
      const expected = await runInProcess(lines, { threads: 1 });
      expect([what, eventFailures(expected.out)]).toEqual([what, sequentialFailures(lines)]);
      expect([what, expected.code]).toEqual([what, what === 'intact' || what.startsWith('every line') ? 0 : 1]);
      for (const sliceBytes of [50_000, 333_333]) {
        for (const threads of [1, 3]) {
          expect([what, sliceBytes, threads, await runInProcess(lines, { threads, sliceBytes })]).toEqual([what, sliceBytes, threads, expected]);
        }
      }
    }
    const unterminated = await runInProcess(bundle1, { threads: 3, sliceBytes: 333_333, trailingNewline: false });
    expect(unterminated).toEqual(await runInProcess(bundle1, { threads: 1 }));

    // A slice is never read whole beyond its bound: a file that cannot be cut is not cut.
    const file = join(dir, 'uncut.jsonl');
    const firstLineAt = Buffer.byteLength(bundle1[0]!) + 1;
    writeFileSync(file, `${variants.at(-1)![1].join('\n')}\n`);
    expect(new RunSlicer(file, firstLineAt, 50_000).slice(0)!.start).toBe(-1);
    writeFileSync(file, `${bundle1.join('\n')}\n`);
    const first = new RunSlicer(file, firstLineAt, 50_000).slice(0)!;
    expect([first.start, first.bytes.length < MAX_SLICE_FACTOR * 50_000]).toEqual([0, true]);
  });

  it('reaches the same verdicts when a worker thread fails, exits, or read another first line, by checking the rest in this thread', async () => {
    const damaged = edit(bundle1, 1 + 4200, (l) => { l.event.action = 'document.restored'; });
    for (const lines of [bundle1, damaged]) {
      const expected = await runInProcess(lines, { threads: 1 });
      for (const failing of ['throws-on-second-slice.ts', 'exits-at-once.ts', 'reads-another-first-line.ts']) {
        const workerModule = new URL(`./support/failing-workers/${failing}`, import.meta.url);
        await expect(runInProcess(lines, { threads: 3, sliceBytes: 60_000, workerModule })).resolves.toEqual(expected);
      }
    }
    expect((await runInProcess(damaged, { threads: 1 })).out).toContain(`FAIL 4200 ${day1[4200]!.id}: hash_mismatch`);
  });

  it('checks the file as it was when it started, even if it grows meanwhile', async () => {
    const uncuttable = bundle1.map((line, i) => {
      if (i === 0) return line;
      const { event, ...rest } = JSON.parse(line);
      return JSON.stringify({ event, ...rest });
    });
    const damaged = edit(bundle1, 1 + 4200, (l) => { l.event.action = 'document.restored'; });
    for (const [what, lines] of [['intact', bundle1], ['damaged (checked on in one thread)', damaged], ['uncuttable (checked in one thread)', uncuttable]] as const) {
      const expected = await runInProcess(lines, { threads: 1 });
      const file = join(dir, `${crypto.randomUUID()}.jsonl`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const options = { file, rpc: ctx.runtime.evmRpcUrl, quiet: true, minConfirmations: 1, threads: 3, sliceBytes: 60_000 };
      const threads = new VerifierThreads(options);
      // Still being written: more lines arrive after the threads started, before any slice is cut.
      appendFileSync(file, `${bundle1[1 + 10]}\n{"type":"event","half-writ`);
      let out = '';
      try {
        const code = await verifyBundleFile({ ...options, out: (text) => { out += text; } }, threads);
        expect([what, { code, out: out.replace(/\d+ confirmation\(s\)/, 'N confirmation(s)') }]).toEqual([what, expected]);
      } finally {
        await threads.stop();
      }
    }
    // What had arrived of a bundle still being written fails: fewer events than its header counts.
    const cut = await runInProcess([...bundle1.slice(0, 3001), bundle1[3001]!.slice(0, 100)], { threads: 3, sliceBytes: 60_000, trailingNewline: false });
    expect(cut.code).toBe(1);
    expect(cut.out).toContain('FAIL 3000 (no id): malformed');
    expect(cut.out).toContain('bundle: FAIL count_mismatch: the bundle has 3001 event(s); the anchor covers 5000');
  });

  it('checks a single-event proof from the API the same way', async () => {
    const proof = await download(`/api/v1/events/${day1[42]!.id}/proof`);
    const good = await verify([proof]);
    expect([good.code, good.out]).toEqual([0, expect.stringContaining(`ok   ${day1[42]!.id}`)]);
    const bad = await verify([JSON.stringify({ data: { ...JSON.parse(proof).data, inclusion: { ...JSON.parse(proof).data.inclusion, leaf_index: 43 } } })]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('inclusion_failed');
  });
});
