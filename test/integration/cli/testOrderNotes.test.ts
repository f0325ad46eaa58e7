/**
 * The built CLI (`dist/cli.js`) with components as traders write them (red team, components round 3), on the paper
 * venue with a real python3: an IOC or FOK limit or stop that cannot fill when it arrives says why it ended cancelled
 * (it said only "CANCELLED (nothing filled)"); `--param quantity=0x10` is refused with its decimal value (it was sent
 * as 16: JavaScript's Number() reads hexadecimal, Python's int() does not).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { immediateUnfilledNote } from '../../../src/usecases/priceText';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An order 10 pips away from the touch it would take: a limit below the ask (buy), a stop above it. */
const AWAY = `from core.orders.order_base import OrderBase

__metadata__ = {'name': 'away', 'parameters': {
    'order_type': {'type': 'str', 'default': 'limit', 'options': ['limit', 'stop', 'stop_limit']},
    'tif': {'type': 'str', 'default': 'IOC', 'options': ['IOC', 'FOK']},
    'side': {'type': 'str', 'default': 'buy', 'options': ['buy', 'sell']},
    'quantity': {'type': 'int', 'default': 1000, 'min': 1},
}}


class Away(OrderBase):
    def generate_order(self, market_data, signal=None):
        c = self.config
        buy = c['side'] == 'buy'
        order = {'symbol': 'EUR_USD', 'side': c['side'], 'order_type': c['order_type'], 'quantity': c['quantity'],
                 'time_in_force': c['tif']}
        if c['order_type'] == 'limit':
            order['price'] = round(market_data['bid'] - 0.001 if buy else market_data['ask'] + 0.001, 5)
        else:
            order['stop_price'] = round(market_data['ask'] + 0.001 if buy else market_data['bid'] - 0.001, 5)
            if c['order_type'] == 'stop_limit':
                order['limit_price'] = round(order['stop_price'] + (0.0005 if buy else -0.0005), 5)
        return order
`;

describe('sptrader CLI: Test Order notes and inputs (components round 3)', function () {
  this.timeout(90_000);
  let dir: string;
  let file: string;
  before(() => assert.ok(existsSync(CLI), 'run `npm run build` first'));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-notes-cli-'));
    file = join(dir, 'away.py');
    writeFileSync(file, AWAY);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string[], RegExp]> = [
    [
      ['order_type=limit', 'tif=IOC', 'side=buy'],
      /^Note {7}nothing filled: the buy limit [\d.]+ was below the ask [\d.]+ when the order arrived, and an IOC order takes what it can the moment it arrives and is cancelled for the rest; a GTC or GTD order rests until the market comes to it$/m,
    ],
    [
      ['order_type=limit', 'tif=FOK', 'side=sell'],
      /^Note {7}nothing filled: the sell limit [\d.]+ was above the bid [\d.]+ when the order arrived, and a FOK order fills whole the moment it arrives, or not at all; /m,
    ],
    [
      ['order_type=stop', 'tif=IOC', 'side=sell'],
      /^Note {7}nothing filled: the sell stop [\d.]+ had not been reached when the order arrived \(the bid was [\d.]+\), and an IOC order .*; a stop meant to wait for the market is GTC or GTD$/m,
    ],
    [
      ['order_type=stop_limit', 'tif=FOK', 'side=buy'],
      /^Note {7}nothing filled: the buy stop [\d.]+ had not been reached when the order arrived \(the ask was [\d.]+\), and a FOK order /m,
    ],
  ];
  for (const [params, note] of cases)
    it(`an ${params.join(' ')} that cannot fill on arrival says why it was cancelled`, () => {
      const r = cli(['test-order', file, '--state-dir', join(dir, 'state'), ...params.flatMap((p) => ['--param', p])]);
      assert.equal(r.code, 0, r.stderr || r.stdout);
      assert.match(r.stdout, / → CANCELLED \(nothing filled\)/);
      assert.match(r.stdout, note);
    });

  it('--param quantity=0x10 is refused with its decimal value, and nothing runs', () => {
    const state = join(dir, 'state');
    const r = cli(['test-order', file, '--state-dir', state, '--param', 'quantity=0x10']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(
      r.stderr,
      /^sptrader: --param quantity=0x10: quantity: "0x10" is not a decimal number \(it is 16 written in base 16\): write it in decimal digits, as 16; __metadata__\['parameters'\]\['quantity'\] asks for a whole number, ≥ 1 \(/,
    );
    assert.equal(r.stdout, '');
    // The session opened (its reconcile is logged); no order was checked or sent.
    const audit = join(state, 'audit');
    const records = existsSync(audit)
      ? readdirSync(audit)
          .filter((f) => f.endsWith('.jsonl'))
          .map((f) => readFileSync(join(audit, f), 'utf8'))
          .join('')
      : '';
    assert.doesNotMatch(records, /"type":"(CheckOrder|SubmitOrder)"/);
  });
});

describe('immediateUnfilledNote: what an IOC or FOK order that ended cancelled says', () => {
  const limit = (tif: 'IOC' | 'FOK' | 'GTC', side: 'buy' | 'sell' = 'buy') =>
    ({
      side,
      quantity: 1000,
      order_type: { type: 'limit', price: 1.08 },
      time_in_force: { type: tif },
    }) as const;
  const cancelled = (filled: number | null) => ({ status: { status: 'cancelled' }, filled_quantity: filled });
  const quote = { bid: 1.0849, ask: 1.0851 };

  it('an IOC that filled part says what was cancelled', () => {
    assert.equal(
      immediateUnfilledNote(limit('IOC'), quote, cancelled(400)),
      '400 of 1,000 filled at once and the other 600 were cancelled, as IOC does (a GTC or GTD order rests until the market comes to it)',
    );
  });

  it('without a quote, or when the quote shows the order could fill, the reason is not guessed', () => {
    assert.equal(
      immediateUnfilledNote(limit('FOK'), undefined, cancelled(0)),
      'nothing filled: a FOK order fills whole the moment it arrives, or not at all, and nothing could fill when it arrived (not the whole quantity at its price)',
    );
    assert.match(
      immediateUnfilledNote(limit('IOC', 'sell'), quote, cancelled(null)) ?? '',
      /^nothing filled: an IOC order takes what it can .*, and nothing could fill when it arrived$/,
    );
  });

  it('nothing for a GTC order, or for one that filled', () => {
    assert.equal(immediateUnfilledNote(limit('GTC'), quote, cancelled(0)), undefined);
    assert.equal(
      immediateUnfilledNote(limit('IOC'), quote, { status: { status: 'filled' }, filled_quantity: 1000 }),
      undefined,
    );
  });
});
