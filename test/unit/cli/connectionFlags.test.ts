/**
 * test-order and execute: the flags that say how to reach one broker apply to --broker's venue. Without --broker
 * the order went to the paper venue and they were dropped without a word (`execute x.py --environment live`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../../src/cli/main';

const COMPONENT = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/market_order.py');

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

describe('CLI: --environment, --base-url, --host, --port and --client-id without a broker to reach', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-connection-flags-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const command of ['test-order', 'execute'])
    for (const flags of [
      ['--environment', 'live'],
      ['--base-url', 'https://api-fxtrade.oanda.com'],
      ['--host', '10.0.0.5', '--port', '4001'],
      ['--client-id', '7'],
      ['--broker', 'paper', '--environment', 'live'],
    ])
      it(`${command} ${flags.join(' ')}: a usage error naming the flags (exit 2), nothing run or written`, async () => {
        const state = join(dir, 'state');
        const r = await run([command, COMPONENT, '--state-dir', state, ...flags]);
        assert.equal(r.code, 2, r.stderr);
        const named = flags.filter((f) => f.startsWith('--') && f !== '--broker').join(', ');
        assert.match(r.stderr, new RegExp(`^sptrader: ${named} appl(y|ies) to a broker's account \\(--broker oanda`));
        assert.match(r.stderr, /without --broker the order goes to the paper venue/);
        assert.equal(existsSync(state), false, 'no state folder was made');
      });

  it('with --venues: the venues’ profiles say how to reach them, so --environment is refused (exit 2, JSON with --json)', async () => {
    const r = await run([
      'test-order',
      COMPONENT,
      '--state-dir',
      join(dir, 's'),
      '--venues',
      'paper',
      '--environment',
      'live',
      '--json',
    ]);
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout) as { errors: Array<{ code: string; message: string }> };
    assert.equal(out.errors[0]?.code, 'USAGE');
    assert.match(
      out.errors[0]?.message ?? '',
      /^--environment applies to --broker; with --venues, each venue's profile/,
    );
  });

  it('--broker paper --environment paper names the paper venue’s one environment: it runs', async function () {
    this.timeout(60_000);
    const r = await run([
      'test-order',
      COMPONENT,
      '--state-dir',
      join(dir, 's'),
      '--broker',
      'paper',
      '--environment',
      'paper',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /FILLED/);
  });
});
