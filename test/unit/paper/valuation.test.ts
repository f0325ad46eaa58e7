/**
 * The account's valuation adds up only the positions whose marks changed since the last one (account.ts,
 * `counted`). Property: after any sequence of fills (opening, adding, reducing, flipping, closing flat) and
 * quote moves, in the account currency and in others, it equals the valuation of a fresh account holding
 * the same books, which sums every position from nothing.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PaperAccount } from '../../../src/brokers/paper/account';
import { instrumentFor } from '../../../src/brokers/paper/instruments';
import type { PositionBook } from '../../../src/brokers/paper/ledger';
import { units } from '../../../src/brokers/paper/money';
import { TestClock } from '../../../src/common/clock';
import { FixedQuotes } from './helpers';

const SYMBOLS = ['AAPL', 'MSFT', 'EUR_USD', 'USD_JPY', 'BTCUSDT'] as const;
const BASE: Record<(typeof SYMBOLS)[number], [number, number]> = {
  AAPL: [190, 190.02],
  MSFT: [410.5, 410.52],
  EUR_USD: [1.0842, 1.0844],
  USD_JPY: [151.2, 151.23],
  BTCUSDT: [65000, 65000.5],
};

type Step =
  | { kind: 'fill'; symbol: number; side: 'buy' | 'sell'; quantity: number }
  | { kind: 'move'; symbol: number; ticks: number }
  | { kind: 'value' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('fill' as const),
    symbol: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    // Few sizes, so that positions often come back to exactly flat.
    quantity: fc.constantFrom(1, 2, 3, 5),
  }),
  fc.record({
    kind: fc.constant('move' as const),
    symbol: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
    ticks: fc.integer({ min: -50, max: 50 }),
  }),
  fc.constant({ kind: 'value' as const }),
);

function copyBooks(from: PaperAccount, to: PaperAccount): void {
  for (const [currency, amount] of from.ledger.cash) to.ledger.cash.set(currency, amount);
  for (const [key, p] of from.ledger.positions) {
    const copy: PositionBook = { symbol: p.symbol, quantity: p.quantity, averagePrice: p.averagePrice, cost: p.cost };
    to.ledger.positions.set(key, copy);
  }
}

describe('PaperAccount valuation', () => {
  it('counting only what changed equals summing every position afresh, over random fills and quotes', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
        const clock = new TestClock();
        const quotes = new FixedQuotes();
        for (const s of SYMBOLS) quotes.set(s, ...BASE[s]);
        const market = { quotes };
        const account = new PaperAccount(market, clock, 1_000_000, 'acct', 'USD');
        for (const s of steps) {
          if (s.kind === 'fill') {
            const symbol = SYMBOLS[s.symbol] as (typeof SYMBOLS)[number];
            const q = quotes.quote(symbol, clock.now());
            const quoteCurrency = instrumentFor(symbol).quoteCurrency;
            account.book({
              symbol,
              quoteCurrency,
              side: s.side,
              price: units(s.side === 'buy' ? q.ask : q.bid),
              quantity: units(s.quantity),
              commission: 0n,
            });
          } else if (s.kind === 'move') {
            const symbol = SYMBOLS[s.symbol] as (typeof SYMBOLS)[number];
            const [bid, ask] = BASE[symbol];
            const tick = instrumentFor(symbol).tickSize;
            quotes.set(symbol, Number((bid + s.ticks * tick).toFixed(5)), Number((ask + s.ticks * tick).toFixed(5)));
          }
          const fresh = new PaperAccount(market, clock, 0, 'acct', 'USD');
          fresh.ledger.cash.clear();
          copyBooks(account, fresh);
          const rows: unknown[] = [];
          const got = account.valuation(rows as never);
          const want = fresh.valuation();
          assert.deepEqual(got, want);
          assert.equal(rows.length, account.ledger.positions.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
