import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CompactStringSet, fnv1a } from '../../src/internal/compact-string-set.js';

/** Every key on one hash: each lookup must tell keys apart by their bytes alone. */
const collide = () => 7;

describe('CompactStringSet', () => {
  test('behaves as a Set: add, has, delete, size, iteration in insertion order', () => {
    const set = new CompactStringSet(['"a', '#1', '"1', 'é', '🧬', '']);
    assert.equal(set.size, 6);
    for (const key of ['"a', '#1', '"1', 'é', '🧬', '']) assert.ok(set.has(key), key);
    assert.ok(!set.has('"b'));
    assert.ok(!set.has('#11'));
    assert.ok(!set.has('"'));
    assert.deepEqual([...set], ['"a', '#1', '"1', 'é', '🧬', '']);
    assert.equal(set.add('"a'), set);
    assert.equal(set.size, 6);
    assert.ok(set.delete('#1'));
    assert.ok(!set.delete('#1'));
    assert.ok(!set.has('#1'));
    assert.equal(set.size, 5);
    assert.deepEqual([...set.keys()], ['"a', '"1', 'é', '🧬', '']);
    assert.ok(set.insert('#1'), 'a deleted key can be added again');
    assert.ok(!set.insert('#1'));
    assert.deepEqual([...set], ['"a', '#1', '"1', 'é', '🧬', ''], 'it comes back in its place');
    assert.deepEqual([...set.entries()][0], ['"a', '"a']);
    const seen: string[] = [];
    set.forEach((value) => {
      seen.push(value);
    });
    assert.equal(seen.length, 6);
    assert.equal(String(set), '[object CompactStringSet]');
    set.clear();
    assert.equal(set.size, 0);
    assert.ok(!set.has('"a'));
  });

  test('entries are numbered in the order they were first added', () => {
    const set = new CompactStringSet();
    assert.ok(set.insert('x'));
    assert.ok(set.insert('y'));
    assert.equal(set.entryOf('x'), 0);
    assert.equal(set.entryOf('y'), 1);
    assert.equal(set.entryOf('z'), -1);
    set.delete('x');
    assert.equal(set.entryOf('x'), -1);
  });

  test('grows past its first tables: 200,000 ids stay exact, a few bytes each', () => {
    const set = new CompactStringSet();
    for (let index = 0; index < 200_000; index++) {
      assert.ok(set.insert(`"q-${String(index).padStart(7, '0')}`));
    }
    assert.equal(set.size, 200_000);
    for (let index = 0; index < 200_000; index += 997) {
      assert.ok(set.has(`"q-${String(index).padStart(7, '0')}`));
      assert.ok(!set.has(`"q-${String(index).padStart(8, '0')}`));
    }
    assert.ok(!set.insert('"q-0000000'));
    // 10 key bytes + 4 start + 4 hash + 1 flag + slots (load 0.35–0.7, 4 bytes each) + the
    // doubled arena's slack: well under the ~100 bytes of a Set<string> member.
    assert.ok(set.byteLength / set.size < 40, `${set.byteLength / set.size} bytes an id`);
  });

  test('keys that share one hash are told apart by their bytes (the collision path)', () => {
    const set = new CompactStringSet(undefined, collide);
    const keys = Array.from({ length: 300 }, (_, index) => `"id-${index}`);
    for (const key of keys) assert.ok(set.insert(key));
    for (const key of keys) assert.ok(!set.insert(key), `${key} is a duplicate`);
    assert.equal(set.size, 300);
    assert.ok(!set.has('"id-300'));
    assert.ok(!set.has('"id-3 '));
    assert.ok(set.delete('"id-150'));
    assert.ok(!set.has('"id-150'));
    assert.ok(set.has('"id-151'), 'probing goes past a deleted entry');
    assert.deepEqual([...set].length, 299);
  });

  test('matches a Set on any sequence of operations, with the real hash and with one hash for all', () => {
    const operation = fc.tuple(
      fc.constantFrom('add', 'delete', 'has'),
      fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"a', '#1', '"1', 'é')),
    );
    for (const hash of [fnv1a, collide]) {
      fc.assert(
        fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
          const compact = new CompactStringSet(undefined, hash);
          const reference = new Set<string>();
          for (const [kind, key] of operations) {
            if (kind === 'add') {
              assert.equal(compact.insert(key), !reference.has(key));
              reference.add(key);
            } else if (kind === 'delete') {
              assert.equal(compact.delete(key), reference.delete(key));
            } else {
              assert.equal(compact.has(key), reference.has(key));
            }
            assert.equal(compact.size, reference.size);
          }
          assert.deepEqual(new Set(compact), reference);
        }),
        { numRuns: 300 },
      );
    }
  });
});
