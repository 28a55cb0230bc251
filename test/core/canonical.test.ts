import { describe, it, expect } from '@jest/globals';
import { canonicalJson, CanonicalJsonError } from '../../core/canonical.ts';

function float64FromHex(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('canonicalJson (RFC 8785)', () => {
  it('produces the RFC 8785 §3.2.2 sample output: numbers, escapes and literals', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units as in RFC 8785 §3.2.3, so an emoji key comes before U+FB33', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('writes numbers exactly like ECMAScript (RFC 8785 Appendix B samples)', () => {
    const samples: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af6', '1e+23'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555554', '333333333.33333325'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, expected] of samples) expect(canonicalJson(float64FromHex(bits))).toBe(expected);
  });

  it('writes -0 as 0 and keeps no whitespace anywhere', () => {
    expect(canonicalJson({ a: [-0, 1.5e-7, 0.1], b: { c: 'x y' } })).toBe('{"a":[0,1.5e-7,0.1],"b":{"c":"x y"}}');
  });

  it('leaves non-ASCII, DEL and U+2028 unescaped but escapes control characters in lowercase hex', () => {
    expect(canonicalJson('é😀\u007f\u2028\u001F\b\t\n\f\r"\\/')).toBe('"é😀\u007f\u2028\\u001f\\b\\t\\n\\f\\r\\"\\\\/"');
  });

  it('escapes every single character exactly as JSON.stringify does, in values and in keys', () => {
    const mismatches: number[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const s = `a${String.fromCharCode(c)}b`;
      if (canonicalJson(s) !== JSON.stringify(s)) mismatches.push(c);
      if (canonicalJson({ [s]: 0 }) !== `{${JSON.stringify(s)}:0}`) mismatches.push(c);
    }
    expect(mismatches).toEqual([]);
    expect(canonicalJson('\ud83d\ude00')).toBe('"\ud83d\ude00"');
  });

  it('matches JSON.stringify of a key-sorted copy for random nested data', () => {
    // Array-index keys ("7") are excluded: JSON.stringify always emits those first.
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = ['a', 'B', 'z', '_', 'é', 'ß', '€', '😀', '\ufb33', '"', '\\', '\n', '\u0001', ' ', '0'];
    const randomString = (): string => Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const randomValue = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) return [null, true, false, randomString(), (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20), Math.floor(random() * 1e6)][Math.floor(random() * 6)];
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) out[`k${randomString()}`] = randomValue(depth + 1);
      return out;
    };
    const sortedCopy = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(sortedCopy);
      if (typeof v !== 'object' || v === null) return v;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = sortedCopy((v as Record<string, unknown>)[k]);
      return out;
    };
    for (let i = 0; i < 500; i++) {
      const value = randomValue(0);
      expect(canonicalJson(value)).toBe(JSON.stringify(sortedCopy(value)));
    }
  });

  it('omits object properties whose value is undefined, as JSON.stringify does', () => {
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
    expect(canonicalJson({ only: undefined })).toBe('{}');
  });

  it('agrees with JSON.stringify on ordinary data once keys are sorted', () => {
    const value = { z: [1, 'two', { y: null, x: true }], a: { nested: { deeper: [] } }, m: 'ünïcödé' };
    expect(canonicalJson(value)).toBe('{"a":{"nested":{"deeper":[]}},"m":"ünïcödé","z":[1,"two",{"x":true,"y":null}]}');
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 1;
    expect(canonicalJson(bare)).toBe('{"k":1}');
  });

  describe('rejects input that has no single JSON meaning', () => {
    const cases: Array<[string, unknown, string]> = [
      ['NaN', { a: NaN }, 'non_finite_number'],
      ['Infinity', [1, Infinity], 'non_finite_number'],
      ['-Infinity', -Infinity, 'non_finite_number'],
      ['undefined inside an array', [1, undefined], 'undefined_value'],
      ['a hole in a sparse array', [1, , 3], 'undefined_value'], // eslint-disable-line no-sparse-arrays
      ['undefined at the top level', undefined, 'undefined_value'],
      ['a function', { f: () => 1 }, 'unsupported_type'],
      ['a bigint', { n: 10n }, 'unsupported_type'],
      ['a symbol', [Symbol('s')], 'unsupported_type'],
      ['a Date', { when: new Date(0) }, 'not_plain_object'],
      ['a Map', new Map(), 'not_plain_object'],
      ['a lone high surrogate in a value', { s: 'a\ud83d' }, 'ill_formed_string'],
      ['a lone low surrogate in a key', { ['\ude00']: 1 }, 'ill_formed_string'],
    ];
    for (const [what, value, code] of cases) {
      it(`throws a TypeError with code ${code} for ${what}`, () => {
        let thrown: unknown;
        try {
          canonicalJson(value);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(TypeError);
        expect(thrown).toBeInstanceOf(CanonicalJsonError);
        expect((thrown as CanonicalJsonError).code).toBe(code);
      });
    }

    it('names the path of the offending value in the message', () => {
      expect(() => canonicalJson({ metadata: { list: [1, { bad: NaN }] } })).toThrow('$["metadata"]["list"][1]["bad"]: NaN is not a finite number');
    });

    it('reports a cyclic reference clearly instead of overflowing the stack', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
    });
  });
});
