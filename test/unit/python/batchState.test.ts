/**
 * run_batch's state key (python/sptrader_harness/lazystate.py) with a real python3: the value comes from
 * the column until the component's first order, then only when read, through onSync with the items
 * before it; a market_data kept past its call is resolved at its own record; any whole-dict use resolves
 * it; a failing onSync ends the batch and is thrown, even from a component that swallows exceptions.
 */
import assert from 'node:assert/strict';
import type { ComponentBatchRequest, ComponentStateSync } from '../../../src/python/runner';
import { batchWorkspace } from './batchWorkspace';

describe('run_batch state requests', function () {
  this.timeout(60_000);
  const ws = batchWorkspace('sptrader-batch-state-');
  const write = ws.write;

  const rows = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i]);
  const batch = (
    file: string,
    n: number,
    onSync: (s: ComponentStateSync) => Promise<{ values: unknown[]; until: number }>,
    until = n,
  ): ComponentBatchRequest => ({
    file,
    common: { symbol: 'EUR_USD' },
    keys: ['x'],
    rows: rows(n),
    state: { key: 'capital', values: [1000], until, onSync },
  });

  it('column values until the first order, then one request per read with the items before it', async () => {
    const file = write(
      'reader',
      [
        '    def generate_order(self, market_data, signal=None):',
        "        x = market_data['x']",
        "        c = market_data['capital']",
        '        if x in (2, 5):',
        "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1, 'seen': c}",
        "        return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'market', 'quantity': 1, 'seen': c} if x == 7 else None",
        '',
      ].join('\n'),
    );
    const syncs: ComponentStateSync[] = [];
    const r = await ws.worker.runBatch(
      batch(file, 9, async (s) => {
        syncs.push(s);
        return { values: [1000 + s.index], until: 1 };
      }),
    );
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, 9);
    assert.equal(r.syncs, 6);
    // Records 0-2 from the column; 3 asks (order at 2 before it), then 4, 5 (column of one), 6 (order at 5), 7, 8.
    assert.deepEqual(
      syncs.map((s) => [s.index, s.items.map((i) => i.index)]),
      [
        [3, [2]],
        [4, []],
        [5, []],
        [6, [5]],
        [7, []],
        [8, [7]],
      ],
    );
    assert.deepEqual(
      syncs.flatMap((s) => s.items).map((i) => (i.ok ? (i.output as { seen: number }).seen : null)),
      [1000, 1005, 1007],
    );
    assert.deepEqual(r.items, [], 'every item was reported through a state request');
  });

  it('a component that never reads it makes no request, whatever it orders', async () => {
    const file = write(
      'blind',
      "    def generate_order(self, market_data, signal=None):\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1}\n",
    );
    const r = await ws.worker.runBatch(batch(file, 50, async () => assert.fail('no request expected')));
    assert.equal(r.ok, true);
    assert.equal(r.items.length, 50);
    assert.equal(r.syncs, 0);
  });

  it('a market_data kept past its call is resolved at its own record; json.dumps, dict() and `in` behave as on a dict', async () => {
    const file = write(
      'keeper',
      [
        '    def __init__(self, config):',
        '        super().__init__(config)',
        '        self.kept = []',
        '    def generate_order(self, market_data, signal=None):',
        "        assert 'capital' in market_data",
        "        x = market_data['x']",
        '        self.kept.append(market_data)',
        '        if x == 1:',
        "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1}",
        '        if x == 4:',
        '            import json',
        "            return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'market', 'quantity': 1,",
        "                    'old': self.kept[2]['capital'], 'dump': json.loads(json.dumps(market_data))['capital'], 'copy': dict(self.kept[3])['capital']}",
        '        return None',
        '',
      ].join('\n'),
    );
    const seen: number[] = [];
    const r = await ws.worker.runBatch(
      batch(file, 5, async (s) => {
        seen.push(s.index);
        return { values: [2000 + s.index], until: 1 };
      }),
    );
    assert.equal(r.ok, true, JSON.stringify(r.error));
    // Records 2 and 3 were kept unread: resolved when their calls ended; record 4 read by json.dumps.
    assert.deepEqual(seen, [2, 3, 4]);
    const last = r.items.find((i) => i.index === 4);
    assert.deepEqual(last?.ok ? last.output : null, {
      symbol: 'EUR_USD',
      side: 'sell',
      order_type: 'market',
      quantity: 1,
      old: 2002,
      dump: 2004,
      copy: 2003,
    });
  });

  it('a failing onSync ends the batch and is thrown, even when the component swallows every exception', async () => {
    const file = write(
      'swallow',
      [
        '    def generate_order(self, market_data, signal=None):',
        '        try:',
        "            market_data['capital']",
        '        except BaseException:',
        '            pass',
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1}",
        '',
      ].join('\n'),
    );
    await assert.rejects(
      ws.worker.runBatch(
        batch(file, 5, async () => {
          throw new Error('the audit log failed');
        }),
      ),
      /the audit log failed/,
    );
    // The worker still serves.
    const again = await ws.worker.runBatch(batch(file, 1, async () => ({ values: [1], until: 1 })));
    assert.equal(again.ok, true);
  });
});
