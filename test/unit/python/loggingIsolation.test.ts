/**
 * Logging in a warm worker (red team rt-comp11): each Test Order finds logging as a fresh `python file.py` would.
 * Before, the first component's logging.basicConfig decided where every later component's lines went (the root
 * logger had a handler, so each later basicConfig was a no-op). Real python3, one worker, several components.
 */
import assert from 'node:assert/strict';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const QUOTE = { symbol: 'EUR_USD', bid: 1.1, ask: 1.1002 };
const component = (body: string, head = '', init = '') =>
  `import logging, sys\n${head}from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n${init}    def generate_order(self, market_data, signal=None):\n${body}\n        return None\n`;
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('Python components: logging in a warm worker (rt-comp11)', function () {
  this.timeout(60_000);
  let options: RunnerOptions;
  const write = componentFolder('logging-isolation', 10_000, { options: (o) => void (options = o), dir: () => {} });
  let worker: PythonWorker;
  beforeEach(() => (worker = new PythonWorker({ ...options })));
  afterEach(() => worker.dispose());

  const run = async (file: string) => {
    const r = await worker.run({ file, marketData: QUOTE });
    assert.equal(r.error, undefined, r.error?.message);
    return { stdout: lines(r.stdout), stderr: lines(r.stderr) };
  };

  it("each component's basicConfig at import holds for its own runs, and for no other component's", async () => {
    const toStdout = write(
      'to_stdout.py',
      component(
        "        log.info('bid=%s', market_data['bid'])",
        "logging.basicConfig(stream=sys.stdout, level=logging.INFO, format='OUT %(name)s %(message)s')\nlog = logging.getLogger('momentum')\n",
      ),
    );
    const toStderr = write(
      'to_stderr.py',
      component(
        "        log.info('ask=%s', market_data['ask'])",
        "log = logging.getLogger('carry')\nlogging.basicConfig(level=logging.INFO, stream=sys.stderr)\n",
      ),
    );
    const silent = write('silent.py', component("        logging.getLogger('quiet').info('not shown')"));
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await run(toStdout), { stdout: ['OUT momentum bid=1.1'], stderr: [] }, `run ${i}`);
      // Before: "OUT carry ask=1.1002" on stdout, the first component's configuration.
      assert.deepEqual(await run(toStderr), { stdout: [], stderr: ['INFO:carry:ask=1.1002'] }, `run ${i}`);
      // Nothing configured: an INFO line goes nowhere, as in a fresh process.
      assert.deepEqual(await run(silent), { stdout: [], stderr: [] }, `run ${i}`);
    }
  });

  it('basicConfig or addHandler in a call: each run as in its own process, never a second handler', async () => {
    const inCall = write(
      'in_call.py',
      component(
        "        logging.basicConfig(level=logging.INFO, format='CALL %(message)s', stream=sys.stdout)\n        logging.getLogger('x').info('one')",
      ),
    );
    const inInit = write(
      'in_init.py',
      component(
        "        self.log.warning('spread=%s', round(market_data['ask'] - market_data['bid'], 4))",
        '',
        "    def __init__(self):\n        super().__init__({})\n        self.log = logging.getLogger('sizer')\n        self.log.addHandler(logging.StreamHandler(sys.stdout))\n",
      ),
    );
    const plain = write(
      'plain.py',
      component(
        "        logging.basicConfig(level=logging.DEBUG, format='PLAIN %(levelname)s %(message)s')\n        logging.getLogger('y').debug('two')",
      ),
    );
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await run(inCall), { stdout: ['CALL one'], stderr: [] }, `run ${i}`);
      // Before: the handler __init__ added each run piled up: the line twice at the second run, three times at the third.
      assert.deepEqual(await run(inInit), { stdout: ['spread=0.0002'], stderr: [] }, `run ${i}`);
      assert.deepEqual(await run(plain), { stdout: [], stderr: ['PLAIN DEBUG two'] }, `run ${i}`);
    }
  });

  it('a helper that configures logging at import does so for every component that imports it', async () => {
    write(
      'core/desk_logging.py',
      "import logging, sys\nlogging.basicConfig(stream=sys.stdout, level=logging.INFO, format='DESK %(name)s %(message)s')\nTOLD = []\n",
    );
    const usesDesk = (name: string) =>
      write(
        `${name}.py`,
        component(`        logging.getLogger('${name}').info('hello')`, 'import core.desk_logging\n'),
      );
    const first = usesDesk('first');
    const second = usesDesk('second');
    // Imports it inside its call, once per run in its own process.
    const late = write(
      'late.py',
      component("        from core import desk_logging\n        logging.getLogger('late').info('late hello')"),
    );
    const own = write(
      'own.py',
      component("        logging.getLogger('own').warning('mine')", "logging.basicConfig(format='OWN %(message)s')\n"),
    );
    assert.deepEqual(await run(first), { stdout: ['DESK first hello'], stderr: [] });
    assert.deepEqual(await run(own), { stdout: [], stderr: ['OWN mine'] });
    // Before: nothing (the helper was already in sys.modules, so its basicConfig did not run for this component).
    assert.deepEqual(await run(second), { stdout: ['DESK second hello'], stderr: [] });
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await run(late), { stdout: ['DESK late late hello'], stderr: [] }, `run ${i}`);
      assert.deepEqual(await run(first), { stdout: ['DESK first hello'], stderr: [] }, `run ${i}`);
      assert.deepEqual(await run(own), { stdout: [], stderr: ['OWN mine'] }, `run ${i}`);
    }
  });

  it("a replay's batches of one kept instance keep what its __init__ configured", async () => {
    const file = write(
      'replayed.py',
      component(
        "        self.log.info('n=%s', market_data['n'])",
        '',
        "    def __init__(self):\n        super().__init__({})\n        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format='R %(message)s')\n        self.log = logging.getLogger('r')\n",
      ),
    );
    const other = write('other.py', component("        logging.getLogger('o').warning('other')"));
    for (const start of [0, 2]) {
      const r = await worker.runBatch({
        file,
        common: QUOTE,
        keys: ['n'],
        rows: [[start], [start + 1]],
        instance: 'replay-1',
      });
      assert.ok(r.ok, JSON.stringify(r.error));
      // Before the kept state: the second batch's lines went nowhere (its __init__ does not run again).
      assert.deepEqual(lines(r.stdout), [`R n=${start}`, `R n=${start + 1}`], `batch from ${start}`);
      // Between the batches another component runs with logging as a fresh process has it.
      assert.deepEqual(await run(other), { stdout: [], stderr: ['other'] });
    }
  });
});
