/**
 * A replay batch's per-record path in the harness (python/sptrader_harness/server.py run_batch) with a real
 * python3: market_data has the keys, order and values of dict(common) updated with the row and the index, for
 * JSON rows shorter than the keys too; a large batch (its request line past the size written as one string,
 * src/python/requestLine.ts) arrives byte for byte; and a process the component forks mid-batch, by os.fork
 * or by libc's fork() through ctypes (which runs none of Python's at-fork hooks), is ended as soon as it comes
 * back into the harness, so that it neither runs the next records nor answers. An order is sent with the values it
 * had when its record returned it, whatever the component does to the dict afterwards.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchWorkspace } from './batchWorkspace';

describe('run_batch records', function () {
  this.timeout(60_000);
  const ws = batchWorkspace('sptrader-batch-records-');
  const write = ws.write;

  it('market_data is dict(common) updated with the row, then the index: short rows and shared keys too', async () => {
    const file = write(
      'show',
      [
        '    def generate_order(self, market_data, signal=None):',
        '        print(repr(list(market_data.items())))',
        '        return None',
        '',
      ].join('\n'),
    );
    const common = { symbol: 'X', a: 'common', i: -1 };
    const keys = ['b', 'a', 'c'];
    const rows = [[1, 2, 3], [4], [], [5, 6, 7, 8]];
    const r = await ws.worker.runBatch({ file, common, keys, rows, indexKey: 'i', indexStart: 10 });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, 4);
    const expected = rows.map((row, n) => {
      const md: Array<[string, unknown]> = Object.entries(common);
      keys.slice(0, row.length).forEach((k, c) => {
        const at = md.findIndex(([key]) => key === k);
        if (at >= 0) md[at] = [k, row[c]];
        else md.push([k, row[c]]);
      });
      const at = md.findIndex(([key]) => key === 'i');
      md[at] = ['i', 10 + n];
      return `[${md.map(([k, v]) => `('${k}', ${typeof v === 'string' ? `'${v}'` : String(v)})`).join(', ')}]`;
    });
    assert.deepEqual(r.stdout.trim().split('\n'), expected);
    // The same rows as columns where every row is complete: the same dicts.
    const full = [rows[0], [4, 5, 6]] as number[][];
    const asRows = await ws.worker.runBatch({ file, common, keys, rows: full, indexKey: 'i' });
    const asColumns = await ws.worker.runBatch({
      file,
      common,
      keys,
      columns: keys.map((_, c) => full.map((row) => row[c])),
      size: 2,
      indexKey: 'i',
    });
    assert.equal(asColumns.stdout, asRows.stdout);
    assert.match(asColumns.stdout, /^\[\('symbol', 'X'\), \('a', 2\), \('i', 0\), \('b', 1\), \('c', 3\)\]/);
  });

  it('an order is sent as it was returned, whatever the component does to the dict after (the answer is written then)', async () => {
    // One dict returned on every record and changed after each: the answer must carry each record's own values,
    // not the dict's last state. The quote text and the None are the cases the JSON text spells differently.
    const file = write(
      'reused',
      [
        '    def __init__(self, config):',
        '        super().__init__(config)',
        "        self.order = {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1, 'note': 'caf\\u00e9 \"1\"', 'price': None}",
        '    def generate_order(self, market_data, signal=None):',
        '        order = self.order',
        "        n = market_data['i']",
        "        order['quantity'] = n + 1",
        "        order['side'] = 'buy' if n % 2 == 0 else 'sell'",
        "        order.pop('extra', None)",
        '        if n == 1:',
        "            order['extra'] = 2.5",
        '        return order',
        '',
      ].join('\n'),
    );
    const r = await ws.worker.runBatch({
      file,
      common: { symbol: 'EUR_USD' },
      keys: [],
      rows: [[], [], []],
      indexKey: 'i',
    });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    const note = 'caf\u00e9 "1"';
    assert.deepEqual(
      r.items.map((item) => (item.ok ? item.output : item.error.message)),
      [
        { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1, note, price: null },
        { symbol: 'EUR_USD', side: 'sell', order_type: 'market', quantity: 2, note, price: null, extra: 2.5 },
        { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 3, note, price: null },
      ],
    );
  });

  it('a large batch arrives byte for byte (non-ASCII text, floats, ints)', async () => {
    const file = write(
      'sum',
      [
        '    def generate_order(self, market_data, signal=None):',
        "        if market_data['n'] % 997 == 0:",
        "            print(market_data['n'], market_data['text'], repr(market_data['price']))",
        '        return None',
        '',
      ].join('\n'),
    );
    const size = 6000;
    const n = Array.from({ length: size }, (_, i) => i);
    const text = n.map((i) => `é\u{1F600}"${i}\\`);
    const price = n.map((i) => 1.08 + i / 1e5);
    const r = await ws.worker.runBatch({
      file,
      common: {},
      keys: ['n', 'text', 'price'],
      columns: [n, text, price],
      size,
    });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, size);
    const expected = n
      .filter((i) => i % 997 === 0)
      .map((i) => `${i} ${text[i]} ${String(price[i])}`)
      .join('\n');
    assert.equal(r.stdout.trim(), expected);
  });

  for (const how of ['os.fork()', 'ctypes.CDLL(None).fork()'])
    it(`a child forked mid-batch by ${how} is ended when it returns into the harness`, async () => {
      const log = join(ws.dir, `calls-${how.length}.txt`);
      const file = write(
        `forker${how.length}`,
        [
          '    def generate_order(self, market_data, signal=None):',
          '        import ctypes, os',
          `        with open(${JSON.stringify(log)}, 'a') as f:`,
          "            f.write('%d %d\\n' % (os.getpid(), market_data['n']))",
          "        if market_data['n'] == 3:",
          `            pid = ${how}`,
          '            if pid == 0:',
          "                return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1}",
          '            os.waitpid(pid, 0)',
          '        return None',
          '',
        ].join('\n'),
      );
      const size = 8;
      const r = await ws.worker.runBatch({
        file,
        common: {},
        keys: ['n'],
        rows: Array.from({ length: size }, (_, i) => [i]),
      });
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.done, size);
      assert.deepEqual(r.items, []);
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      // One call per record, all in the harness: the child never ran a record after its fork.
      assert.deepEqual(
        calls.map((line) => Number(line.split(' ')[1])),
        Array.from({ length: size }, (_, i) => i),
      );
      assert.equal(new Set(calls.map((line) => line.split(' ')[0])).size, 1);
      // The worker still answers the next batch.
      const again = await ws.worker.runBatch({ file, common: {}, keys: ['n'], rows: [[0]] });
      assert.equal(again.ok, true);
    });
});
