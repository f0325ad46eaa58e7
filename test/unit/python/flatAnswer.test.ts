/**
 * The harness's fast path for an answer that is a flat dict of scalars (python/sptrader_harness/safejson.py
 * flat_dict, what almost every order is) against the walk it stands beside: over thousands of seeded dicts
 * (str and other keys, every scalar type, subclasses, non-finite and huge numbers, nested values, unicode)
 * and budgets around each one's exact cost, the fast path either gives the walk's dict (same keys, order,
 * values and value types) and spends exactly what the walk spends, or declines and spends nothing, so the
 * walk then runs, and fails, as it always did.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';

const LIBRARY = resolve(__dirname, '../../../../python');

const CHECK = String.raw`
import random, sys
from sptrader_harness import safejson
from sptrader_harness.safejson import Budget, ComponentFailure, flat_dict

class Text(str):
    pass

class Number(int):
    pass

rng = random.Random(int(sys.argv[1]))
KEYS = ['symbol', 'side', 'order_type', 'quantity', 'price', 'caf\u00e9', 'q"uote', 'new\nline', '\u20ac', '']
def scalar():
    pick = rng.randrange(16)
    if pick == 0: return rng.choice(['EUR_USD', 'buy', '', 'caf\u00e9 \u20ac', 'a"b\\c', '\x00\x1f', 'x' * rng.randrange(200)])
    if pick == 1: return rng.uniform(-1e6, 1e6)
    if pick == 2: return rng.randrange(-10 ** 6, 10 ** 6)
    if pick == 3: return rng.choice([True, False, None])
    if pick == 4: return rng.choice([float('nan'), float('inf'), float('-inf')])
    if pick == 5: return rng.choice([10 ** 18, -10 ** 18, 10 ** 18 - 1, 2 ** 70, 10 ** 400])
    if pick == 6: return Text('sub')
    if pick == 7: return Number(5)
    if pick == 8: return {'type': 'limit', 'price': 1.1}
    if pick == 9: return [1, 2]
    if pick == 10: return rng.choice([1e-300, 5e-324, 1.7976931348623157e308, 0.1, -0.0, 1e16])
    return rng.choice(['market', 'sell', 1000, 0.5, 1.23456789012])
def sample():
    d = {}
    for _ in range(rng.randrange(8)):
        key = rng.choice(KEYS) if rng.random() < 0.9 else rng.choice([1, 2.5, None, Text('k')])
        d[key] = scalar()
    return d

def walk(value, limit):
    budget = Budget(limit, 64, 'the order', 'ANSWER_TOO_LARGE', 'ANSWER_TOO_DEEP')
    try:
        out = safejson._walk(value, True, 'order', budget, 0)
    except ComponentFailure as f:
        return ('failed', f.code, f.message), budget.left
    return ('ok', list(out.items()), [type(v) for v in out.values()]), budget.left

fast_taken = declined = 0
for case in range(int(sys.argv[2])):
    value = sample()
    unlimited = walk(value, 10 ** 9)
    cost = 10 ** 9 - unlimited[1] if unlimited[0][0] == 'ok' else 40
    for limit in sorted(set(max(1, c) for c in (cost - 2, cost - 1, cost, cost + 1, cost + 50, 10 ** 9))):
        budget = Budget(limit, 64, 'the order', 'ANSWER_TOO_LARGE', 'ANSWER_TOO_DEEP')
        flat = flat_dict(value, budget)
        expected, left = walk(value, limit)
        if flat is None:
            declined += 1
            assert budget.left == limit, (case, value, limit, 'a declined answer spent budget')
        else:
            fast_taken += 1
            assert flat is not value, (case, value, 'the answer must be a copy')
            got = ('ok', list(flat.items()), [type(v) for v in flat.values()])
            assert got == expected, (case, value, limit, got, expected)
            assert budget.left == left, (case, value, limit, budget.left, left)
        # The whole conversion (safe_json) is the walk's, whichever path it took.
        budget = Budget(limit, 64, 'the order', 'ANSWER_TOO_LARGE', 'ANSWER_TOO_DEEP')
        try:
            out = safejson.safe_json(value, 'order', budget)
            got = ('ok', list(out.items()), [type(v) for v in out.values()])
        except ComponentFailure as f:
            got = ('failed', f.code, f.message)
        assert got == expected and budget.left == left or got[0] == 'failed', (case, value, limit, got, expected)
        if got[0] == 'failed':
            assert got == expected, (case, value, limit, got, expected)
print(fast_taken, declined)
`;

describe('flat answers (safejson.flat_dict)', function () {
  this.timeout(60_000);

  it('give what the walk gives, at the same cost, or decline and spend nothing', async () => {
    const interpreter = await resolveInterpreter(defaultInterpreterCandidates());
    const out = execFileSync(interpreter.executable, ['-c', CHECK, '11', '3000'], {
      env: { ...process.env, PYTHONPATH: LIBRARY },
      encoding: 'utf8',
      timeout: 50_000,
    });
    const [taken, declined] = out.trim().split(' ').map(Number) as [number, number];
    // Both sides exercised: dicts it took (most budgets) and ones it left to the walk (types, limits).
    assert.ok(taken > 2000, `fast path taken ${taken} times`);
    assert.ok(declined > 2000, `declined ${declined} times`);
  });
});
