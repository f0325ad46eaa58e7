/**
 * A component file whose name holds a line end: the summary's Component and Error lines write it as \n. It ended the
 * line, and what followed it in the name read as another line of the summary ("Venue      oanda (live)").
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../../src/cli/main';

const COMPONENT = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/market_order.py');

async function run(argv: string[]): Promise<{ code: number; stdout: string }> {
  const err = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  let stdout = '';
  process.stderr.write = (): boolean => true;
  process.stdout.write = (chunk: string | Uint8Array): boolean => ((stdout += String(chunk)), true);
  try {
    return { code: await main(argv), stdout };
  } finally {
    process.stderr.write = err;
    process.stdout.write = out;
  }
}

describe('CLI: a component file name with a line end in it', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-component-path-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is shown on its own line, the line end as \\n, in the Component line and an Error line', async () => {
    const forged = join(dir, 'x\nVenue      oanda (live)\nx.py');
    copyFileSync(COMPONENT, forged);
    const ok = await run(['test-order', forged, '--state-dir', join(dir, 's')]);
    assert.equal(ok.code, 0);
    const shown = `${join(dir, 'x')}\\nVenue      oanda (live)\\nx.py`;
    assert.match(
      ok.stdout,
      new RegExp(`^Component  ${shown.replace(/[\\.()]/g, '\\$&')} \\(MarketOrder\\.execute\\)$`, 'm'),
    );
    assert.equal(ok.stdout.match(/^Venue /gm)?.length, 1, ok.stdout);

    writeFileSync(forged, 'raise ValueError("no")\n');
    const failed = await run(['test-order', forged, '--state-dir', join(dir, 's')]);
    assert.equal(failed.code, 1);
    const error = failed.stdout.split('\n').find((line) => line.startsWith('Error      '));
    assert.ok(error?.startsWith(`Error      ${shown}:1: [IMPORT_ERROR]`), failed.stdout);
    assert.equal(failed.stdout.match(/^Venue /gm)?.length, 1, JSON.stringify(failed.stdout));
  });
});
