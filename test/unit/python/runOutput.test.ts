/**
 * What a component prints reaches the run that printed it, in a warm worker (the editor's Test Order, a replay's
 * batches): a logging handler or a `sys.stdout` kept from import time writes into each later run's output, and
 * what it writes straight to fd 1 or 2 (os.write, sys.__stdout__, a subprocess) is shown with its own run, never
 * with the next one; code that asks sys.stdout for its descriptor (subprocess's stdout=sys.stdout, faulthandler)
 * gets one. Real python3, one worker, several runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';

const COMPONENT = [
  'import faulthandler, logging, os, subprocess, sys',
  "logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')",
  "log = logging.getLogger('sizing')",
  'out = sys.stdout',
  '',
  'class C:',
  '    def generate_order(self, market_data, signal=None):',
  "        n = market_data['n']",
  "        log.info('log %d', n)",
  "        out.write('kept %d\\n' % n)",
  "        os.write(2, b'fd2 %d\\n' % n)",
  "        print('dunder %d' % n, file=sys.__stdout__)",
  "        subprocess.run(['echo', 'child %d' % n])",
  "        subprocess.run(['echo', 'piped %d' % n], stdout=sys.stdout, check=True)",
  '        faulthandler.enable()',
  '        return None',
  '',
].join('\n');

describe('a run’s output in a warm worker', function () {
  this.timeout(60_000);
  let dir: string;
  let options: RunnerOptions;
  before(async () => {
    options = { interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs: 10_000 };
    dir = mkdtempSync(join(tmpdir(), 'sptrader-run-output-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('each run has its own lines: logging set up at import, a kept sys.stdout, fd 1 and 2, a subprocess', async () => {
    const file = join(dir, 'prints.py');
    writeFileSync(file, COMPONENT);
    const worker = new PythonWorker(options);
    try {
      for (let n = 0; n < 8; n++) {
        const r = await worker.run({ file, marketData: { n } });
        assert.equal(r.error, undefined, r.error?.message);
        assert.equal(r.stdout, `kept ${n}\n`, `run ${n}`);
        assert.deepEqual(
          r.stderr
            .split('\n')
            .filter((l) => l !== '')
            .sort(),
          [`INFO log ${n}`, `child ${n}`, `dunder ${n}`, `fd2 ${n}`, `piped ${n}`],
          `run ${n}`,
        );
      }
      const batch = await worker.runBatch({ file, common: {}, keys: ['n'], rows: [[10], [11]] });
      assert.equal(batch.ok, true);
      assert.equal(batch.stdout, 'kept 10\nkept 11\n');
      assert.deepEqual(
        batch.stderr.split('\n').filter((l) => l.startsWith('INFO')),
        ['INFO log 10', 'INFO log 11'],
      );
    } finally {
      await worker.dispose();
    }
  });
});
