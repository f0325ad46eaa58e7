/**
 * The state folder deleted under a running session (`rm -rf` of it while `sptrader algo` works a TWAP): the
 * open audit file still takes writes, to a file no one can read again. The log must refuse them, so that no
 * slice goes out unrecorded, and the command must end as a state-file failure naming the file (exit 6), not
 * as an internal error.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, cli, MARKET } from './crashKit';

const TWAP = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/twap_buy.py');

describe('crash suite: the state folder deleted while a session runs', function () {
  this.timeout(120_000);
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-deleted-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('algo: the slices after the deletion are never sent; exit 6 naming the audit file, no internal error', async () => {
    const template = join(root, 'template');
    const component = join(root, 'market.py');
    cpSync(TWAP, join(root, 'twap.py'));
    writeFileSync(component, MARKET);
    assert.equal((await cli(['execute', component, '--state-dir', template])).code, 0, 'a folder with a fill');
    const stateDir = join(root, 'state');
    cpSync(template, stateDir, { recursive: true });
    // Four slices 3 s apart: the folder goes once the first has filled, long before the second is due.
    const child = spawn(
      process.execPath,
      [
        CLI,
        'algo',
        join(root, 'twap.py'),
        '--param',
        'quantity=4000',
        '--param',
        'duration_s=12',
        '--param',
        'slices=4',
        '--state-dir',
        stateDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPTRADER_DEBUG: '' } },
    );
    let stdout = '';
    let stderr = '';
    let deleted = false;
    let deleteError: unknown;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!deleted && /slice 1: BUY 1000 EUR_USD → FILLED/.test(stdout)) {
        deleted = true;
        try {
          rmSync(stateDir, { recursive: true, force: true, maxRetries: 10 });
        } catch (e) {
          // The session, halting, writes new files into the folder while it goes: what it held is gone anyway.
          if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY') deleteError = e;
        }
      }
    });
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    assert.ok(deleted, `the first slice filled before the folder went: ${stdout}${stderr}`);
    assert.equal(deleteError, undefined, 'the folder’s files were deleted');
    assert.equal(code, 6, `exit ${code}\n${stdout}${stderr}`);
    assert.doesNotMatch(stderr, /internal error/);
    assert.match(stderr, /audit-\d{4}-\d{2}-\d{2}\.jsonl \(the file was deleted while the log was open/);
    // Before, slice 2 was still handed to the venue (recorded in a file that no longer existed).
    assert.doesNotMatch(stdout, /slice [234]: /, 'no slice after the deletion reached the venue');
  });
});
