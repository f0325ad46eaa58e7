/**
 * Which venue carries a trailing stop natively and why the others do not (`trailingStopEmulationReason`
 * over each venue's capabilities), pure: the table the parent orders decide by, per the venues' documents
 * (cited beside each capability in src/brokers/<venue>/orders.ts).
 */
import assert from 'node:assert/strict';
import { ALPACA_CAPABILITIES, CRYPTO_TRAILING_REASON } from '../../../src/brokers/alpaca/orders';
import {
  BINANCE_CAPABILITIES,
  BINANCE_TRAIL_OFFSET_REFUSAL,
  BINANCE_WHOLE_BPS_REFUSAL,
} from '../../../src/brokers/binance/orders';
import { trailingStopEmulationReason, type TrailingStopWanted } from '../../../src/brokers/broker';
import { BrokerError } from '../../../src/brokers/errors';
import { IB_CAPABILITIES } from '../../../src/brokers/ib/orders';
import { OANDA_CAPABILITIES, TRAILING_STOP_REFUSAL, toV20OrderRequest } from '../../../src/brokers/oanda/orders';
import { PAPER_CAPABILITIES, PAPER_TRAILING_REASON } from '../../../src/brokers/paper/paperBroker';

describe('trailing stop: native or emulated, per venue', () => {
  const byOffset: TrailingStopWanted = { trailOffset: 0.5, kind: 'equity' };
  const byBps: TrailingStopWanted = { trailBps: 25, kind: 'equity' };
  const decide = (caps: typeof PAPER_CAPABILITIES, wanted: TrailingStopWanted, venue: string) =>
    trailingStopEmulationReason(caps, wanted, venue) ?? 'native';

  it('Alpaca and IB take both trails natively on equities; Binance only whole bps; OANDA and paper neither', () => {
    const table = Object.fromEntries(
      (
        [
          ['alpaca', ALPACA_CAPABILITIES],
          ['ib', IB_CAPABILITIES],
          ['binance', BINANCE_CAPABILITIES],
          ['oanda', OANDA_CAPABILITIES],
          ['paper', PAPER_CAPABILITIES],
        ] as const
      ).map(([venue, caps]) => [venue, [decide(caps, byOffset, venue), decide(caps, byBps, venue)]]),
    );
    assert.deepEqual(table, {
      alpaca: ['native', 'native'],
      ib: ['native', 'native'],
      binance: [BINANCE_TRAIL_OFFSET_REFUSAL, 'native'],
      oanda: [TRAILING_STOP_REFUSAL, TRAILING_STOP_REFUSAL],
      paper: [PAPER_TRAILING_REASON, PAPER_TRAILING_REASON],
    });
  });

  it('the finer refusals: a fraction of a bps on Binance, crypto on Alpaca and IB, an activation price anywhere', () => {
    assert.equal(
      decide(BINANCE_CAPABILITIES, { trailBps: 12.5, kind: 'crypto' }, 'binance'),
      BINANCE_WHOLE_BPS_REFUSAL,
    );
    assert.equal(decide(ALPACA_CAPABILITIES, { trailBps: 25, kind: 'crypto' }, 'alpaca'), CRYPTO_TRAILING_REASON);
    assert.match(decide(IB_CAPABILITIES, { trailOffset: 1, kind: 'crypto' }, 'ib'), /PAXOS/);
    assert.match(
      decide(IB_CAPABILITIES, { ...byOffset, activationPrice: 101 }, 'ib'),
      /an activation price is watched locally \(SPtrader sends none to ib\)/,
    );
  });

  it('OANDA refuses a standalone trailing stop before anything is sent, with the reason', () => {
    const instrument = {
      name: 'EUR_USD',
      type: 'CURRENCY',
      displayPrecision: 5,
      pipLocation: -4,
      tradeUnitsPrecision: 0,
      minimumTradeSize: 1,
    };
    assert.throws(
      () =>
        toV20OrderRequest(
          {
            symbol: 'EUR_USD',
            side: 'sell',
            quantity: 100,
            order_type: { type: 'trailing_stop', trail_offset: 0.001 },
            time_in_force: { type: 'GTC' },
            client_order_id: 'x',
            metadata: {},
          },
          instrument,
        ),
      (e: unknown) =>
        e instanceof BrokerError && e.reason === 'UNSUPPORTED_ORDER' && e.message === TRAILING_STOP_REFUSAL,
    );
  });
});
