/**
 * The CLI's flags that take one of a few words (--side, --broker, --environment): `--side SELL` was refused with
 * "must be buy or sell" while `--param side=SELL` was taken. Any letters are read as the word; anything else is
 * refused naming the flag, the value and the words (rt-cli10).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { choiceFlag } from '../../../src/cli/args';
import { main } from '../../../src/cli/main';

const COMPONENT = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/market_order.py');
const fail = (message: string): Error => new Error(message);

async function run(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const err = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  let stderr = '';
  let stdout = '';
  process.stderr.write = (chunk: string | Uint8Array): boolean => ((stderr += String(chunk)), true);
  process.stdout.write = (chunk: string | Uint8Array): boolean => ((stdout += String(chunk)), true);
  try {
    return { code: await main(argv), stderr, stdout };
  } finally {
    process.stderr.write = err;
    process.stdout.write = out;
  }
}

describe('CLI: word flags (--side, --broker, --environment) in any letters', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-choice-flags-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('choiceFlag: SELL, Buy, " sell " are the words; anything else is refused with the words it takes', () => {
    const side = (text: string): string | undefined => choiceFlag('--side', text, ['buy', 'sell'], fail);
    assert.equal(side('SELL'), 'sell');
    assert.equal(side('Buy'), 'buy');
    assert.equal(side(' sell '), 'sell');
    assert.equal(choiceFlag('--side', undefined, ['buy', 'sell'], fail), undefined);
    assert.throws(() => side('short'), { message: "--side must be buy or sell, not 'short'" });
    assert.throws(() => side(''), { message: "--side must be buy or sell, not ''" });
    assert.throws(() => choiceFlag('--broker', 'kraken', ['paper', 'oanda', 'alpaca'], fail), {
      message: "--broker must be one of paper, oanda, alpaca, not 'kraken'",
    });
  });

  it('test-order --side SELL --broker PAPER --environment Paper: runs, and the order sent is a sell', async function () {
    this.timeout(60_000);
    const r = await run([
      'test-order',
      COMPONENT,
      '--state-dir',
      join(dir, 's'),
      '--side',
      'SELL',
      '--broker',
      'PAPER',
      '--environment',
      'Paper',
      '--json',
    ]);
    // Before: exit 2, "--side must be buy or sell, not 'SELL'".
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /"side":\s*"sell"/);
    assert.doesNotMatch(r.stdout, /"side":\s*"buy"/);
  });

  it('compare --side Sell with a crossed --market-data fixture: runs a sell, and its notes say the quote is crossed (as test-order does)', async function () {
    this.timeout(60_000);
    const fixture = join(dir, 'crossed.json');
    writeFileSync(fixture, JSON.stringify({ bid: 1.1002, ask: 1.1, spread: 0.5 }));
    const r = await run([
      'compare',
      COMPONENT,
      '--venues',
      'paper',
      '--side',
      'Sell',
      '--market-data',
      fixture,
      '--state-dir',
      join(dir, 's'),
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const outcome = JSON.parse(r.stdout) as { notes: string[]; marketData: Record<string, unknown> };
    assert.equal(outcome.marketData['side'], 'sell');
    // Before: compare said nothing of the fixture's quote.
    assert.ok(
      outcome.notes.some((n) => /fixture's bid 1\.1002 is above its ask 1\.1 \(a crossed quote\)/.test(n)),
      outcome.notes.join(' | '),
    );
    assert.ok(
      outcome.notes.some((n) =>
        /fixture's 'spread' 0\.5 is not the ask − bid the component saw \(1\.1 − 1\.1002 = -0\.0002\)/.test(n),
      ),
      outcome.notes.join(' | '),
    );
  });

  it('test-order and compare: --side short, --broker kraken, --environment prod are refused (exit 2) with the words', async () => {
    const refused = async (argv: string[], message: RegExp): Promise<void> => {
      const r = await run([...argv, '--state-dir', join(dir, 's')]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    };
    await refused(['test-order', COMPONENT, '--side', 'short'], /--side must be buy or sell, not 'short'/);
    await refused(
      ['compare', COMPONENT, '--venues', 'paper', '--side', 'Short'],
      /--side must be buy or sell, not 'Short'/,
    );
    await refused(
      ['test-order', COMPONENT, '--broker', 'kraken'],
      /--broker must be one of paper, oanda, alpaca, binance, ib, not 'kraken'/,
    );
    await refused(
      ['test-order', COMPONENT, '--broker', 'oanda', '--environment', 'prod'],
      /--environment must be one of paper, practice, testnet, live, not 'prod'/,
    );
  });
});
