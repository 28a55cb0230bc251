/**
 * The verifier's fast path (core/canonical-bytes.ts, core/bundle/line.ts, pushBytes) must never
 * change a verdict: every bundle, intact or damaged in any way, gets exactly the report it gets
 * when each line is parsed first.
 */
import { describe, expect, it } from '@jest/globals';
import {
  canonicalJson, isCanonicalJsonBytes, readIntactEventLine, verifyBundle, type BundleEventLine, type BundleHeader,
} from '../../core/mod.ts';
import { lineScope } from '../../core/bundle/mod.ts';
import { prng } from '../../bench/events.ts';
import { lineText, syntheticBundle } from '../bundle-fixtures.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');
/** What a verifier that parses every line reports. */
const parsedReport = (header: BundleHeader, texts: string[]) => verifyBundle(header, texts.map((t) => { try { return JSON.parse(t) as unknown; } catch { return null; } }));
/** What the fast path reports for the same lines. */
const bytesReport = (header: BundleHeader, texts: string[]) => verifyBundle(header, texts.map(bytes));

describe('recognising canonical JSON bytes', () => {
  it.each([
    '{}', '[]', '{"a":1,"b":[true,false,null]}', '{"":0,"a":{"b":{}}}', '"é 😀 中文"', '"\\u0001\\u001f\\b\\t\\n\\f\\r\\"\\\\"', '1e+21', '0.1',
    '-5', '123456789012345', '9007199254740992', '1.5e-7', '{"a":"x","a!":"y","b":2}', '"\u2028/\u007f"',
  ])('accepts %s', (text) => {
    expect(canonicalJson(JSON.parse(text))).toBe(text);
    expect(isCanonicalJsonBytes(bytes(text))).toBe(true);
  });

  it.each([
    ['whitespace', '{"a": 1}'], ['unsorted keys', '{"b":1,"a":2}'], ['a duplicate key', '{"a":1,"a":2}'], ['1.0', '[1.0]'], ['-0', '[-0]'],
    ['1E3', '[1E3]'], ['1e21 written out', '[1000000000000000000000]'], ['an integer past 2^53', '[9007199254740993]'], ['a leading zero', '[01]'],
    ['an escaped letter', '"\\u0041"'], ['an escaped slash', '"\\/"'], ['upper-case hex', '"\\u001F"'], ['a long escape for \\n', '"\\u000a"'],
    ['a raw control character', '"a\u0001"'], ['trailing bytes', '{}x'], ['an unterminated string', '"abc'], ['a bare word', 'nul'],
  ])('refuses %s', (_what, text) => {
    expect(isCanonicalJsonBytes(bytes(text))).toBe(false);
  });

  it('refuses invalid UTF-8, which JSON.parse would read as U+FFFD', () => {
    expect(isCanonicalJsonBytes(Buffer.from([0x22, 0xc3, 0x28, 0x22]))).toBe(false);
    expect(isCanonicalJsonBytes(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))).toBe(false); // an encoded lone surrogate
  });

  it('accepts only texts that are their own canonical form, whatever random edits do to them', () => {
    const random = prng(7);
    const samples = syntheticBundle(40, { rich: true }).lines.map((l) => canonicalJson(l.event));
    let accepted = 0;
    for (let round = 0; round < 4000; round++) {
      const text = mutate(samples[round % samples.length]!, random);
      if (!isCanonicalJsonBytes(bytes(text))) continue;
      accepted++;
      expect(canonicalJson(JSON.parse(text))).toBe(text);
    }
    expect(accepted).toBeGreaterThan(100); // some edits keep a canonical text (a changed letter), so both sides are exercised
  });
});

describe('reading an event line from its bytes', () => {
  it('reads every line the service writes, rich metadata included, and what it reads is what parsing gives', () => {
    const { lines } = syntheticBundle(300, { rich: true });
    for (const line of lines) {
      const read = readIntactEventLine(bytes(lineText(line)));
      expect(read).not.toBeNull();
      expect(read).toMatchObject({
        event_hash: line.event_hash, leaf_index: line.inclusion.leaf_index, tree_size: line.inclusion.tree_size, pathLength: line.inclusion.path.length,
        id: line.event.id, previous_event_hash: line.event.previous_event_hash,
      });
      expect(lineScope(bytes(lineText(line)), read!)).toEqual({ workspace_id: line.event.workspace_id, created_at: line.event.created_at });
    }
  });

  it('leaves to parsing a line whose event is not byte-for-byte canonical, even when its fields hash right', () => {
    const { lines } = syntheticBundle(3);
    const text = lineText(lines[1]!);
    expect(readIntactEventLine(bytes(text.replace('"action":', '"action": ')))).toBeNull();
    expect(readIntactEventLine(bytes(text.replace(`"event_hash":"${lines[1]!.event_hash}"`, `"event_hash":"${'0'.repeat(64)}"`)))).toBeNull();
    expect(readIntactEventLine(bytes(`${text}\r`))).toBeNull();
  });
});

describe('the fast path reaches the very verdicts of parsed lines', () => {
  const fresh = syntheticBundle(700, { rich: true });
  const texts = fresh.lines.map(lineText);
  const same = (header: BundleHeader, lines: string[]) => expect(bytesReport(header, lines)).toEqual(parsedReport(header, lines));

  it('on an intact bundle: all valid', () => {
    const r = bytesReport(fresh.header, texts);
    expect([r.headerFailures, r.bundleFailures, r.verdicts.filter((v) => v.failures.length > 0)]).toEqual([[], [], []]);
    same(fresh.header, texts);
  });

  const edits: Array<[string, (lines: string[]) => void]> = [
    ['a changed metadata value', (l) => { l[300] = l[300]!.replace('"flags":{"archived":true', '"flags":{"archived":false'); }],
    ['a removed event', (l) => { l.splice(513, 1); }],
    ['a swapped pair', (l) => { [l[10], l[11]] = [l[11]!, l[10]!]; }],
    ['a forged hex path element', (l) => { l[650] = l[650]!.replace(/"path":\["[0-9a-f]{8}/, '"path":["00000000'); }],
    ['a path element of 64 non-hex letters', (l) => { l[651] = l[651]!.replace(/"path":\["[0-9a-f]{64}"/, `"path":["${'z'.repeat(64)}"`); }],
    ['a path element with a quote inside (not JSON)', (l) => { l[300] = l[300]!.replace(/"path":\["[0-9a-f]{10}/, '"path":["0123","5678'); }],
    ['a path element split in two by quotes of the same length', (l) => { l[299] = l[299]!.replace(/"path":\["[0-9a-f]{10}/, '"path":["012","4567'); }],
    ['a path element with a backslash escape (JSON that decodes differently)', (l) => { l[301] = l[301]!.replace(/"path":\["[0-9a-f]{6}/, '"path":["\\u0030'); }],
    ['a path element with a raw control character', (l) => { l[302] = l[302]!.replace(/"path":\["[0-9a-f]/, '"path":["\u0001'); }],
    ['a path element with a non-ASCII letter', (l) => { l[303] = l[303]!.replace(/"path":\["[0-9a-f]{2}/, '"path":["é'); }],
    ['a truncated line', (l) => { l[400] = l[400]!.slice(0, 200); }],
    ['an empty line', (l) => { l[401] = ''; }],
    ['a leaf index with a leading zero', (l) => { l[402] = l[402]!.replace('"leaf_index":402', '"leaf_index":0402'); }],
    ['an event from another workspace spliced in', (l) => { l[403] = l[403]!.replace('7a1f3d2e-0000-4000-8000-000000000001"}', '7a1f3d2e-0000-4000-8000-000000000002"}'); }],
    ['a duplicated last event member', (l) => { l[404] = `${l[404]!.slice(0, -1)},"event":{}}`; }],
  ];
  it.each(edits)('on %s', (_what, edit) => {
    const lines = [...texts];
    edit(lines);
    expect(bytesReport(fresh.header, lines)).not.toEqual(bytesReport(fresh.header, texts));
    same(fresh.header, lines);
  });

  // Intact events (their hashes hold, so the fast path reads them) against an anchor of another
  // workspace or day: the workspace and day are compared on the bytes, with the same verdicts.
  const record = fresh.header.anchor.record;
  it.each<[string, Partial<typeof record>, string]>([
    ['another workspace', { workspace_id: '7a1f3d2e-0000-4000-8000-000000000002' }, 'wrong_workspace'],
    ['a workspace id that differs only in length', { workspace_id: `${record.workspace_id}0` }, 'wrong_workspace'],
    ['a day ending before the last events', { period_end: '2026-03-16T10:00:01.000500Z' }, 'outside_period'],
    ['a day starting after the first events', { period_start: '2026-03-16T10:00:01.000200Z' }, 'outside_period'],
    ['a day given with a non-ASCII bound', { period_end: '2026-03-16T23:59:59.999999Zé' }, ''],
    ['a workspace id that is not a string', { workspace_id: 7 as never }, 'wrong_workspace'],
  ])('on intact events and an anchor of %s', (_what, change, code) => {
    const header = { ...fresh.header, anchor: { ...fresh.header.anchor, record: { ...record, ...change } } };
    const codes: string[] = bytesReport(header, texts).verdicts.flatMap((v) => v.failures.map((f) => f.code));
    expect(code === '' ? codes : codes.includes(code)).toEqual(code === '' ? [] : true);
    same(header, texts);
  });

  // Not damage: the fields are the same, so they hash the same, whatever the layout. The fast
  // path does not vouch for such lines; parsing them finds them valid.
  it.each<[string, (lines: string[]) => void]>([
    ['an event re-serialised with spaces', (l) => { l[5] = l[5]!.replace('"action":"', '"action": "'); }],
    ['event members in another order', (l) => { const o = JSON.parse(l[9]!) as BundleEventLine; l[9] = JSON.stringify({ ...o, event: Object.fromEntries(Object.entries(o.event).reverse()) }); }],
    ['line members in another order', (l) => { const o = JSON.parse(l[12]!) as BundleEventLine; l[12] = JSON.stringify({ event: o.event, inclusion: o.inclusion, event_hash: o.event_hash, type: o.type }); }],
  ])('on %s: still valid', (_what, edit) => {
    const lines = [...texts];
    edit(lines);
    expect(readIntactEventLine(bytes(lines.find((l, i) => l !== texts[i])!))).toBeNull();
    expect(bytesReport(fresh.header, lines)).toEqual(bytesReport(fresh.header, texts));
    same(fresh.header, lines);
  });

  it('on an event nested 100,000 levels deep: a failure for that event, not a crash', () => {
    const lines = [...texts];
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    lines[42] = lines[42]!.replace('"metadata":{', `"metadata":{"":${deep},`);
    const r = bytesReport(fresh.header, lines);
    expect(r.verdicts[42]!.failures.map((f) => f.code)).toContain('hash_mismatch');
    same(fresh.header, lines);
  });

  it('on hundreds of randomly damaged bundles', () => {
    const random = prng(42);
    const small = syntheticBundle(300, { rich: true });
    const base = small.lines.map(lineText);
    for (let round = 0; round < 300; round++) {
      const lines = [...base];
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const at = Math.floor(random() * lines.length);
        lines[at] = mutate(lines[at]!, random);
      }
      same(small.header, lines);
    }
  });
});

/** One random edit: replace, insert or delete a character, or swap two neighbours. */
function mutate(text: string, random: () => number): string {
  const chars = [...text];
  const at = Math.floor(random() * chars.length);
  const alphabet = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', 'a', '0', '1', '.', 'e', '-', 'é', '\u0001', 'n', 'u', 'Z'];
  const pick = alphabet[Math.floor(random() * alphabet.length)]!;
  switch (Math.floor(random() * 4)) {
    case 0: chars[at] = pick; break;
    case 1: chars.splice(at, 0, pick); break;
    case 2: chars.splice(at, 1); break;
    default: [chars[at], chars[at + 1]] = [chars[at + 1] ?? '', chars[at]!];
  }
  return chars.join('');
}
