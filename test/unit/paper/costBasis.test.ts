/**
 * The paper account's P&L as a trader computes it by hand: a position keeps what it cost exactly, not only its
 * average price rounded to the money scale (10 decimals). Bought 1,000 at 1.08001 and 2,000 at 1.08002 cost
 * 3,240.05: the average 1.080016666… rounded to 1.0800166667 made a sale of all 3,000 at 1.08003 realize
 * 0.0399999 instead of 0.04, and the open position's unrealized P&L read the same.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Ledger } from '../../../src/brokers/paper/ledger';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { units } from '../../../src/brokers/paper/money';
import { TestClock } from '../../../src/common/clock';
import { FixedQuotes, order } from './helpers';

const EUR = 'EUR_USD';

const fill = (side: 'buy' | 'sell', quantity: number, price: number) => ({
  symbol: EUR,
  quoteCurrency: 'USD',
  side,
  price: units(price),
  quantity: units(quantity),
  commission: 0n,
});

describe('paper account: P&L from the exact cost of a position', () => {
  it('bought at two prices and sold whole: the realized P&L is the proceeds less the cost, exactly', () => {
    const ledger = new Ledger();
    ledger.apply(fill('buy', 1000, 1.08001));
    ledger.apply(fill('buy', 2000, 1.08002));
    ledger.apply(fill('sell', 3000, 1.08003));
    assert.equal(ledger.realized.get('USD'), units(0.04));
  });

  it('partial closes add up to the proceeds less the cost once the position is flat (short side too)', () => {
    for (const side of ['buy', 'sell'] as const) {
      const other = side === 'buy' ? 'sell' : 'buy';
      const ledger = new Ledger();
      ledger.apply(fill(side, 1, 1));
      ledger.apply(fill(side, 2, 2)); // cost 5 for 3: an average of 1.666…
      ledger.apply(fill(other, 1, 2));
      ledger.apply(fill(other, 1, 2));
      ledger.apply(fill(other, 1, 2)); // proceeds 6
      assert.equal(ledger.realized.get('USD'), side === 'buy' ? units(1) : units(-1), side);
      assert.equal(ledger.positions.size, 0);
    }
  });

  it('property: once flat, the realized P&L is the cash the trades made (no commission), to the unit', () => {
    const trade = fc.record({
      side: fc.constantFrom('buy' as const, 'sell' as const),
      quantity: fc.integer({ min: 1, max: 5000 }),
      ticks: fc.integer({ min: 107_000, max: 109_000 }),
    });
    fc.assert(
      fc.property(fc.array(trade, { minLength: 1, maxLength: 12 }), (trades) => {
        const ledger = new Ledger();
        let cash = 0n;
        let position = 0n;
        for (const t of trades) {
          const f = fill(t.side, t.quantity, t.ticks / 100_000);
          ledger.apply(f);
          const signed = t.side === 'buy' ? f.quantity : -f.quantity;
          position += signed;
          cash -= (f.price * signed) / 10n ** 10n;
        }
        // Close whatever is left at 1.08000.
        if (position !== 0n) {
          const f = fill(position > 0n ? 'sell' : 'buy', Number(position < 0n ? -position : position) / 1e10, 1.08);
          ledger.apply(f);
          cash += (f.price * position) / 10n ** 10n;
        }
        assert.equal(ledger.realized.get('USD') ?? 0n, cash);
      }),
      { numRuns: 300, seed: 20261204 },
    );
  });

  it("the venue's unrealized and realized P&L are exact, also after the account is saved and opened again", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-cost-'));
    try {
      const clock = new TestClock(Date.UTC(2026, 0, 5, 10));
      const quotes = new FixedQuotes().set(EUR, 1.08001, 1.08001, 1_000_000);
      const stateFile = join(dir, 'paper-account.json');
      const open = async () => {
        const b = new PaperBroker({ clock, quotes, startingCash: 100_000, depth: false, stateFile });
        await b.connect();
        return b;
      };
      const first = await open();
      await first.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, EUR));
      quotes.set(EUR, 1.08002, 1.08002, 1_000_000);
      await first.submitOrder(order('buy', 2000, { type: 'market' }, { type: 'GTC' }, EUR));
      quotes.set(EUR, 1.08003, 1.08003, 1_000_000);
      const held = (await first.getAccountInfo()).open_positions[0];
      assert.equal(held?.unrealized_pnl, 0.04);
      await first.disconnect();
      const second = await open();
      assert.equal((await second.getAccountInfo()).open_positions[0]?.unrealized_pnl, 0.04);
      await second.submitOrder(order('sell', 3000, { type: 'market' }, { type: 'GTC' }, EUR));
      assert.deepEqual(second.getRealizedPnl(), { USD: 0.04 });
      await second.disconnect();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
