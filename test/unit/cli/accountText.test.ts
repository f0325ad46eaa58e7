/**
 * `sptrader account` and `sptrader positions` read as the editor's account view does: money with two decimals,
 * thousands separators and the account's currency, P&L signed. They printed raw numbers ("Balance 89089.8",
 * "unrealized 0.2"): no currency, no separators, a cent's trailing zero dropped. From a real paper account.
 */
import assert from 'node:assert/strict';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { accountText, positionsTable } from '../../../src/cli/trading';
import { FixedQuotes, order } from '../paper/helpers';

describe('sptrader account / positions: what they print', () => {
  it('money with separators, two decimals and the currency; quantities grouped; P&L signed', async () => {
    const clock = new TestClock(Date.UTC(2026, 0, 5, 10));
    const quotes = new FixedQuotes().set('EUR_USD', 1.08, 1.08, 10_000_000).set('AAPL', 190, 190, 10_000_000);
    const broker = new PaperBroker({ clock, quotes, startingCash: 1_000_000, depth: false });
    await broker.connect();
    await broker.submitOrder(order('buy', 125_000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'));
    await broker.submitOrder(order('sell', 20, { type: 'market' }, { type: 'GTC' }, 'AAPL'));
    quotes.set('EUR_USD', 1.07, 1.07, 10_000_000).set('AAPL', 189.5, 189.5, 10_000_000);

    const account = await broker.getAccountInfo();
    const text = accountText(account);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], `Account ${account.account_id} (USD)`);
    // 125,000 × (1.07 − 1.08) = −1,250.00 on EUR_USD; 20 × (190 − 189.5) = +10.00 on the short AAPL.
    assert.match(text, /^Open P&L +-1,240\.00 USD$/m, text);
    assert.match(text, /^Equity +998,760\.00 USD$/m, text);
    assert.match(text, /^Cash +\d{1,3}(,\d{3})*\.\d{2} USD$/m, text);
    assert.match(text, /^Buying power +\d{1,3}(,\d{3})*\.\d{2} USD$/m, text);
    assert.match(text, /^Positions +2$/m, text);
    // The figures line up on their right edge.
    const ends = lines.slice(1, 5).map((l) => l.indexOf(' USD'));
    assert.equal(new Set(ends).size, 1, text);

    const table = positionsTable(await broker.getPositions(), account.currency);
    const rows = table.trimEnd().split('\n');
    assert.match(rows[0] ?? '', /^Symbol +Quantity +Average +Mid +Unrealized P&L$/);
    assert.ok(
      rows.some((r) => /^EUR_USD +125,000 +1\.08 +1\.07 +-1,250\.00 USD$/.test(r)),
      table,
    );
    assert.ok(
      rows.some((r) => /^AAPL +-20 +190 +189\.5 +\+10\.00 USD$/.test(r)),
      table,
    );
    await broker.disconnect();
  });
});
