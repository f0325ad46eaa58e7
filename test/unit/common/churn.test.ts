/**
 * ChurnMap and ChurnSet answer as a Map and a Set would, across the fresh tables they start (after as many deletions
 * as they hold entries, at least 1,024): the same entries, the same insertion order, the same size; a copy handed out
 * before a renewal keeps what it had. Why they renew is in src/common/churn.ts; what it saves is in BENCHMARKS.md.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChurnMap, ChurnSet } from '../../../src/common/churn';

type Op = { kind: 'set'; key: number; value: number } | { kind: 'delete'; key: number } | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 200, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.nat(60), value: fc.integer() }) },
  { weight: 200, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

describe('ChurnMap and ChurnSet', () => {
  it('a long run of sets and deletes (many renewals) leaves what a Map leaves, in the same order', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 2000, maxLength: 6000 }), (ops) => {
        const churn = new ChurnMap<number, number>();
        const map = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            churn.set(o.key, o.value);
            map.set(o.key, o.value);
          } else if (o.kind === 'delete') assert.equal(churn.delete(o.key), map.delete(o.key));
          else {
            churn.clear();
            map.clear();
          }
          assert.equal(churn.size, map.size);
        }
        assert.deepEqual(churn.entries(), [...map.entries()]);
        assert.deepEqual(churn.keys(), [...map.keys()]);
        assert.deepEqual(churn.values(), [...map.values()]);
        for (let k = 0; k <= 60; k++) {
          assert.equal(churn.has(k), map.has(k));
          assert.equal(churn.get(k), map.get(k));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('renews after enough deletions and keeps every entry and its order; a copy taken before keeps what it had', () => {
    const churn = new ChurnMap<string, number>();
    for (let i = 0; i < 10; i++) churn.set(`keep-${i}`, i);
    const before = churn.values();
    // 5,000 entries come and go: several renewals, with the ten kept ones in the table each time.
    const kept = Array.from({ length: 10 }, (_, i) => `keep-${i}`);
    for (let i = 0; i < 5000; i++) {
      churn.set(`order-${i}`, i);
      assert.equal(churn.delete(`order-${i}`), true);
      if (i % 100 === 0) assert.deepEqual(churn.keys(), kept, `after ${i + 1} deletions`);
    }
    assert.equal(churn.delete('order-0'), false, 'a key deleted before a renewal stays deleted after it');
    assert.deepEqual(churn.keys(), kept);
    churn.delete('keep-3');
    assert.equal(churn.size, 9);
    assert.equal(before.length, 10, 'a copy handed out earlier is not changed by later deletions');
    let visited = 0;
    churn.forEach((value, key) => {
      assert.equal(key, `keep-${value}`);
      visited++;
    });
    assert.equal(visited, 9);
  });

  it('a ChurnSet holds objects by identity, as a Set does, across renewals', () => {
    const set = new ChurnSet<{ id: number }>();
    const kept = { id: -1 };
    set.add(kept);
    for (let i = 0; i < 3000; i++) {
      const o = { id: i };
      set.add(o);
      assert.equal(set.has({ id: i }), false, 'an equal object is another member');
      assert.equal(set.delete(o), true);
    }
    assert.equal(set.has(kept), true);
    assert.deepEqual(set.values(), [kept]);
    set.clear();
    assert.equal(set.size, 0);
    assert.equal(set.has(kept), false);
  });
});
