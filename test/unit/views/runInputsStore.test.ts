/** The inputs Test Order and Execute on Paper give a component, remembered per file; fixtures read from real files. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunInputsStore, type InputsState } from '../../../src/views/runInputsStore';

/** The workspace state VS Code gives an extension, kept in memory (get/update are all the store uses). */
function memento(): InputsState {
  const data = new Map<string, unknown>();
  return {
    get: <T>(key: string) => data.get(key) as T | undefined,
    update: async (key: string, value: unknown) => void data.set(key, value),
  };
}

describe('Test Order inputs (per component)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-inputs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('remembers parameters and fixtures per file, and reads the fixtures when a run starts', async () => {
    const store = new RunInputsStore(memento());
    const signal = join(dir, 'sell.json');
    const market = join(dir, 'md.json');
    writeFileSync(signal, '{"side": "sell"}');
    writeFileSync(market, '{"symbol": "EUR_USD", "bid": 1.1, "ask": 1.1002}');
    assert.deepEqual(store.resolve('/ws/a.py'), { summary: '' }, 'nothing set: the defaults and the venue quote');
    await store.set('/ws/a.py', { parameters: { quantity: 5000 }, signalFile: signal, marketDataFile: market });
    const r = store.resolve('/ws/a.py');
    assert.deepEqual(r.parameters, { quantity: 5000 });
    assert.deepEqual(r.signal, { side: 'sell' });
    assert.deepEqual(r.marketData, { symbol: 'EUR_USD', bid: 1.1, ask: 1.1002 });
    assert.equal(r.summary, 'parameters quantity=5000 · signal sell.json · market data md.json');
    assert.deepEqual(store.resolve('/ws/b.py'), { summary: '' }, 'another component has its own');
    // A fixture edited after it was chosen is read afresh.
    writeFileSync(signal, 'null');
    assert.equal(store.resolve('/ws/a.py').signal, null, 'a signal may be None');
    await store.set('/ws/a.py', {});
    assert.deepEqual(store.get('/ws/a.py'), {});
  });

  it('names a fixture that went missing or is not a JSON object, and says how to fix it', async () => {
    const store = new RunInputsStore(memento());
    const bad = join(dir, 'bad.json');
    await store.set('/ws/a.py', { signalFile: join(dir, 'gone.json') });
    assert.throws(
      () => store.resolve('/ws/a.py'),
      /the signal fixture .*gone\.json cannot be read \(ENOENT\); set it again with "SPtrader: Set Component Inputs…"/,
    );
    writeFileSync(bad, '{"side": ');
    await store.set('/ws/a.py', { marketDataFile: bad });
    assert.throws(() => store.resolve('/ws/a.py'), /the market data fixture .*bad\.json is not valid JSON/);
    writeFileSync(bad, '[1, 2]');
    assert.throws(() => store.resolve('/ws/a.py'), /must hold a JSON object \(a dict\), not a list/);
    writeFileSync(bad, 'null');
    assert.throws(
      () => store.resolve('/ws/a.py'),
      /market data fixture .* must hold a JSON object/,
      'market data cannot be None',
    );
  });
});
