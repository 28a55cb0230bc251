import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { computeEventHash, eventHashPreimage, EventHashError, EVENT_HASH_VERSION } from '../../core/event-hash.ts';
import type { ChainedEventFields } from '../../core/event-hash.ts';

interface Vector {
  description: string;
  fields: ChainedEventFields;
  previous_event_hash: string | null;
  preimage: string;
  event_hash: string;
}

const vectorFile = JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/event-hash-v1.json'), 'utf8')) as {
  version: number;
  vectors: Vector[];
};
const vectors = vectorFile.vectors;
const first = vectors[0]!;

function clone<T>(value: T): T {
  return structuredClone(value);
}

describe('event hash v1', () => {
  it('is version 1, matching the vector file', () => {
    expect(EVENT_HASH_VERSION).toBe(1);
    expect(vectorFile.version).toBe(1);
    expect(vectors.length).toBeGreaterThanOrEqual(6);
  });

  describe('matches the independently computed test vectors', () => {
    for (const vector of vectors) {
      it(vector.description, () => {
        expect(eventHashPreimage(vector.fields, vector.previous_event_hash)).toBe(vector.preimage);
        expect(computeEventHash(vector.fields, vector.previous_event_hash)).toBe(vector.event_hash);
      });
    }
  });

  it('is the lowercase hex SHA-256 of the UTF-8 preimage', () => {
    for (const vector of vectors) {
      const digest = createHash('sha256').update(Buffer.from(vector.preimage, 'utf8')).digest('hex');
      expect(digest).toBe(vector.event_hash);
      expect(vector.event_hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('links the vectors into one chain (each previous hash is the prior event hash)', () => {
    expect(first.previous_event_hash).toBeNull();
    for (let i = 1; i < vectors.length; i++) expect(vectors[i]!.previous_event_hash).toBe(vectors[i - 1]!.event_hash);
  });

  it('ignores columns that are not hashed fields, such as a stored event_hash or sequence number', () => {
    const row = { ...clone(first.fields), event_hash: 'f'.repeat(64), sequence: 99, previous_event_hash: 'e'.repeat(64), extra: { x: 1 } };
    expect(computeEventHash(row, first.previous_event_hash)).toBe(first.event_hash);
  });

  it('does not depend on the order of keys in the input or in metadata', () => {
    const fields = clone(vectors[3]!.fields);
    const reversed = Object.fromEntries(Object.entries(fields).reverse()) as unknown as ChainedEventFields;
    reversed.metadata = Object.fromEntries(Object.entries(fields.metadata).reverse());
    expect(computeEventHash(reversed, vectors[3]!.previous_event_hash)).toBe(vectors[3]!.event_hash);
  });

  it('changes when any single hashed field changes', () => {
    const base = computeEventHash(first.fields, null);
    const edits: Array<(f: ChainedEventFields) => void> = [
      (f) => { f.actor_name = 'Ada King'; },
      (f) => { f.actor_name = null; },
      (f) => { f.metadata = { ...f.metadata, mfa: false }; },
      (f) => { f.targets = [{ type: 'user' }]; },
      (f) => { f.version = 2; },
      (f) => { f.occurred_at = '2026-03-15T14:32:18.847313Z'; },
      (f) => { f.workspace_id = 'ws_other'; },
      (f) => { f.ip_address = '203.0.113.8'; },
    ];
    for (const edit of edits) {
      const fields = clone(first.fields);
      edit(fields);
      expect(computeEventHash(fields, null)).not.toBe(base);
    }
  });

  it('changes when the previous event hash changes, so events cannot be re-linked', () => {
    expect(computeEventHash(first.fields, 'a'.repeat(64))).not.toBe(computeEventHash(first.fields, null));
    expect(computeEventHash(first.fields, 'a'.repeat(64))).not.toBe(computeEventHash(first.fields, 'b'.repeat(64)));
  });

  it('distinguishes a null optional field from an empty string', () => {
    const fields = clone(first.fields);
    fields.resource_name = '';
    expect(computeEventHash(fields, null)).not.toBe(first.event_hash);
  });

  describe('refuses fields that would give a hash nobody else can reproduce', () => {
    const bad: Array<[string, (f: Record<string, unknown>) => void, string]> = [
      ['a millisecond timestamp', (f) => { f.occurred_at = '2026-03-15T14:32:18.847Z'; }, 'invalid_timestamp'],
      ['a timestamp with an offset instead of Z', (f) => { f.created_at = '2026-03-15T14:32:18.847312+00:00'; }, 'invalid_timestamp'],
      ['a Date object as a timestamp', (f) => { f.occurred_at = new Date(0); }, 'invalid_timestamp'],
      ['an absent optional field (undefined instead of null)', (f) => { delete f.tenant_id; }, 'invalid_field'],
      ['an absent required field', (f) => { delete f.actor_id; }, 'invalid_field'],
      ['a numeric version read back as a string', (f) => { f.version = '1'; }, 'invalid_field'],
      ['metadata that is an array', (f) => { f.metadata = []; }, 'invalid_field'],
      ['targets that are not an array', (f) => { f.targets = {}; }, 'invalid_field'],
    ];
    for (const [what, edit, code] of bad) {
      it(`throws ${code} for ${what}`, () => {
        const fields = clone(first.fields) as unknown as Record<string, unknown>;
        edit(fields);
        let thrown: unknown;
        try {
          computeEventHash(fields as unknown as ChainedEventFields, null);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(EventHashError);
        expect((thrown as EventHashError).code).toBe(code);
      });
    }

    it('throws invalid_previous_hash for an upper-case or truncated previous hash', () => {
      expect(() => computeEventHash(first.fields, 'A'.repeat(64))).toThrow(EventHashError);
      expect(() => computeEventHash(first.fields, 'a'.repeat(63))).toThrow(/previous_event_hash must be 64 lowercase hex/);
    });

    it('throws for metadata values that are not JSON, such as NaN', () => {
      const fields = clone(first.fields);
      fields.metadata = { amount: NaN };
      expect(() => computeEventHash(fields, null)).toThrow(TypeError);
    });
  });
});
