/** The paper account on disk: atomic, validated, reloaded whole, never silently replaced. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBrokerError } from '../../../src/brokers/errors';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { FixedQuotes, GTC, gtd, limit, order, stop } from './helpers';

describe('PaperBroker persistence', () => {
  let dir: string;
  let file: string;
  let clock: TestClock;
  let quotes: FixedQuotes;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-paper-'));
    file = join(dir, 'nested', 'paper-account.json');
    clock = new TestClock();
    quotes = new FixedQuotes();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = async (options: { seed?: number; withQuotes?: boolean } = {}) => {
    const b = new PaperBroker({
      clock,
      stateFile: file,
      ...(options.withQuotes === false ? {} : { quotes }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    await b.connect();
    return b;
  };

  it('a new broker on the same file sees cash, positions and resting orders; a resting order then fills after reload', async () => {
    const first = await open();
    await first.submitOrder(order('buy', 10)); // at 100.02
    quotes.set('BTCUSDT', 65000, 65000.02);
    await first.submitOrder(order('buy', 0.1, { type: 'market' }, GTC, 'BTCUSDT'));
    const resting = await first.submitOrder(order('buy', 5, limit(99)));
    const stopOrder = await first.submitOrder(order('sell', 5, stop(99.5), gtd(clock.now() + 60_000)));
    await first.disconnect();
    assert.deepEqual(readdirSync(join(dir, 'nested')), ['paper-account.json'], 'no temp file left behind');

    const second = await open();
    assert.deepEqual(second.getCashBalances(), { USD: 98_999.8, USDT: -6506.502002 });
    assert.deepEqual(
      (await second.getPositions()).map((p) => [p.symbol, p.quantity, p.average_price]),
      [
        ['AAPL', 10, 100.02],
        ['BTCUSDT', 0.1, 65000.02],
      ],
    );
    assert.deepEqual(
      (await second.listOpenOrders()).map((o) => [o.order_id, o.status.status]),
      [
        [resting.order_id, 'submitted'],
        [stopOrder.order_id, 'submitted'],
      ],
    );
    quotes.move(98.5, 98.52);
    second.poll();
    assert.equal((await second.getOrderStatus(resting.order_id)).filled_price, 99);
    assert.equal((await second.getOrderStatus(stopOrder.order_id)).filled_price, 98.5);

    const third = await open();
    assert.deepEqual(
      (await third.getPositions()).map((p) => p.quantity),
      [10, 0.1],
    );
    assert.equal(third.getFills().length, 4);
    const next = await third.submitOrder(order('buy', 1));
    assert.deepEqual([next.order_id, next.fills[0]?.fill_id], ['P-5', 'PF-5']);
  });

  it('stores amounts as exact decimal strings', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 3));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { cash: Record<string, string>; positions: Array<{ quantity: string }> };
    assert.deepEqual(saved.cash, { USD: '996999400000000' }); // 99 699.94 in 10^-10 units
    assert.equal(saved.positions[0]?.quantity, '30000000000');
  });

  it('the saved file already holds a fill when its update is delivered', async () => {
    const b = await open();
    let onDisk = '';
    b.onOrderUpdate((u) => {
      if (u.fill) onDisk = readFileSync(file, 'utf8');
    });
    await b.submitOrder(order('buy', 1));
    assert.match(onDisk, /"PF-1"/);
  });

  it('a corrupt or invalid file is a clear INTERNAL error naming the file and reset; the file is left as it was', async () => {
    for (const content of ['{"version": 2, "cash": ', '{"version": 2, "cash": {"USD": "abc"}}', '']) {
      const b = new PaperBroker({ clock, quotes, stateFile: join(dir, 'bad.json') });
      writeFileSync(join(dir, 'bad.json'), content);
      await assert.rejects(
        b.connect(),
        (e) => isBrokerError(e) && e.reason === 'INTERNAL' && e.message.includes(join(dir, 'bad.json')) && /reset the paper account/.test(e.message),
      );
      assert.equal(b.isConnected(), false);
      assert.equal(readFileSync(join(dir, 'bad.json'), 'utf8'), content);
    }
  });

  it('reset clears the account and the file, even after a corrupt file refused to load', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 10));
    b.reset();
    assert.equal(existsSync(file), false);
    assert.deepEqual(await b.getPositions(), []);
    assert.deepEqual(b.getCashBalances(), { USD: 100_000 });
    writeFileSync(file, 'garbage');
    const c = new PaperBroker({ clock, quotes, stateFile: file });
    await assert.rejects(c.connect());
    c.reset();
    await c.connect();
    assert.equal((await c.submitOrder(order('buy', 1))).order_id, 'P-1');
  });

  it('keeps the synthetic feed seed with the account', async () => {
    const first = await open({ seed: 42, withQuotes: false });
    const q = await first.getQuote('EUR_USD');
    await first.submitOrder(order('buy', 1000, { type: 'market' }, GTC, 'EUR_USD'));
    const again = await open({ withQuotes: false });
    assert.deepEqual(await again.getQuote('EUR_USD'), q);
  });

  it('upgrades a file in the first layout (one cash balance)', async () => {
    const at = clock.now();
    const response = {
      order_id: 'P-1',
      client_order_id: 'old-1',
      symbol: 'AAPL',
      side: 'buy',
      order_type: { type: 'limit', price: 99 },
      time_in_force: { type: 'GTC' },
      quantity: 2,
      status: { status: 'submitted' },
      filled_price: null,
      filled_quantity: null,
      commission: null,
      timestamp: at,
      created_at: at,
      fills: [],
    };
    const request = {
      symbol: 'AAPL',
      side: 'buy',
      order_type: { type: 'limit', price: 99 },
      quantity: 2,
      time_in_force: { type: 'GTC' },
      metadata: {},
      client_order_id: 'old-1',
    };
    writeFileSync(
      file.replace('nested/', ''),
      JSON.stringify({
        version: 1,
        accountId: 'PAPER-1',
        currency: 'USD',
        cash: '900000000000000',
        nextOrder: 1,
        nextFill: 0,
        positions: [],
        orders: [{ response, request, triggered: false }],
      }),
    );
    const b = new PaperBroker({ clock, quotes, stateFile: file.replace('nested/', '') });
    await b.connect();
    assert.deepEqual(b.getCashBalances(), { USD: 90_000 });
    quotes.move(98, 98.02);
    b.poll();
    assert.equal((await b.getOrderByClientId('old-1'))?.status.status, 'filled');
    assert.equal((await b.submitOrder(order('buy', 1))).order_id, 'P-2');
  });
});
