/**
 * The harness's fast path for an answer that is a flat dict of scalars (python/sptrader_harness/safejson.py
 * flat_dict, what almost every order is) against the walk it stands beside: over thousands of seeded dicts
 * (str and other keys, every scalar type, subclasses, non-finite and huge numbers, nested values, unicode)
 * and budgets around each one's exact cost, the fast path either gives the walk's dict (same keys, order,
 * values and value types) and spends exactly what the walk spends, or declines and spends nothing, so the
 * walk then runs, and fails, as it always did. A replay batch's form of it, flat_json (the order written as
 * the JSON text the answer carries), gives exactly the text the harness's encoder writes for flat_dict's dict,
 * at the same cost, and declines where it declines; and a batch answer with such items (answer_text) is the
 * very text of the answer with the items as dicts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';

const LIBRARY = resolve(__dirname, '../../../../python');

const CHECK = String.raw`
import random, sys
from sptrader_harness import safejson
from sptrader_harness.safejson import Budget, ComponentFailure, ORDER_ITEM, ORDER_ITEM_NO_LINE, answer_text, flat_dict, flat_json
from sptrader_harness.server import _encode_answer

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
texts = []
for case in range(int(sys.argv[2])):
    value = sample()
    unlimited = walk(value, 10 ** 9)
    cost = 10 ** 9 - unlimited[1] if unlimited[0][0] == 'ok' else 40
    for limit in sorted(set(max(1, c) for c in (cost - 2, cost - 1, cost, cost + 1, cost + 50, 10 ** 9))):
        budget = Budget(limit, 64, 'the order', 'ANSWER_TOO_LARGE', 'ANSWER_TOO_DEEP')
        flat = flat_dict(value, budget)
        expected, left = walk(value, limit)
        text_budget = Budget(limit, 64, 'the order', 'ANSWER_TOO_LARGE', 'ANSWER_TOO_DEEP')
        text = flat_json(value, text_budget)
        if flat is None:
            declined += 1
            assert budget.left == limit, (case, value, limit, 'a declined answer spent budget')
            assert text is None and text_budget.left == limit, (case, value, limit, text, 'flat_json took what flat_dict declined')
        else:
            fast_taken += 1
            assert flat is not value, (case, value, 'the answer must be a copy')
            got = ('ok', list(flat.items()), [type(v) for v in flat.values()])
            assert got == expected, (case, value, limit, got, expected)
            assert budget.left == left, (case, value, limit, budget.left, left)
            assert text is not None and '{' + text + '}' == _encode_answer(flat), (case, value, limit, text)
            assert text_budget.left == left, (case, value, limit, text_budget.left, left)
            texts.append((text, flat))
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
# A batch answer whose order items are text, among items that are dicts (errors, walked orders), is the answer
# json's encoder writes with every item a dict; so is the state request that sends a batch's items mid-batch.
for case in range(300):
    results = []
    as_dicts = []
    for index in range(rng.randrange(6)):
        if texts and rng.random() < 0.7:
            text, flat = rng.choice(texts)
            line = rng.choice([None, 7, 12345])
            results.append((index, ORDER_ITEM % (index, text, line) if line is not None else ORDER_ITEM_NO_LINE % (index, text)))
            item = {'index': index, 'ok': True, 'result': flat}
            if line is not None:
                item['line'] = line
            as_dicts.append(item)
        else:
            item = rng.choice([{'index': index, 'ok': False, 'error': {'code': 'COMPONENT_ERROR', 'message': 'caf\u00e9 "x"'}},
                               {'index': index, 'ok': True, 'result': {'order': {'side': 'buy'}, 'n': [1, 2.5]}}])
            results.append(item)
            as_dicts.append(item)
    tail = rng.choice([{}, {'component_ms': 1.5, 'stdout': 'caf\u00e9'}])
    response = dict([('id', 'r1'), ('ok', True), ('metadata', {'results': []}), ('results', results)] + list(tail.items()))
    plain = dict([('id', 'r1'), ('ok', True), ('metadata', {'results': []}), ('results', as_dicts)] + list(tail.items()))
    assert answer_text(response, _encode_answer) == _encode_answer(plain), (case, response)
    sync = {'id': 'r1', 'sync': 3, 'results': results}
    assert answer_text(sync, _encode_answer) == _encode_answer({'id': 'r1', 'sync': 3, 'results': as_dicts}), (case, sync)
print(fast_taken, declined)
`;

describe('flat answers (safejson.flat_dict, flat_json, answer_text)', function () {
  this.timeout(60_000);

  it('give what the walk gives, at the same cost, or decline and spend nothing; as text, what the answer carries', async () => {
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
