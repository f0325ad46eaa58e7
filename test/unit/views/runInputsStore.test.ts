/** The inputs Test Order and Execute on Paper give a component, remembered per file; fixtures read from real files. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_FIXTURE_BYTES } from '../../../src/common/userFile';
import { replayStartingParameters, RunInputsStore, type InputsState } from '../../../src/views/runInputsStore';

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
      /the signal fixture .*gone\.json cannot be read: it does not exist; fix the file or set it again with "SPtrader: Set Component Inputs…"/,
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

  it('refuses a fixture that is a folder, a named pipe, too large or too deep, without blocking', async () => {
    const store = new RunInputsStore(memento());
    await store.set('/ws/a.py', { signalFile: dir });
    assert.throws(() => store.resolve('/ws/a.py'), /the signal fixture .* is not a regular file \(a folder\)/);
    const fifo = join(dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    await store.set('/ws/a.py', { signalFile: fifo });
    // A plain read would wait here forever for a writer.
    assert.throws(() => store.resolve('/ws/a.py'), /is not a regular file \(a named pipe\)/);
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"pad": "${'x'.repeat(MAX_FIXTURE_BYTES)}"}`);
    await store.set('/ws/a.py', { marketDataFile: big });
    assert.throws(
      () => store.resolve('/ws/a.py'),
      /is 16,777,227 bytes, more than the 16 MiB SPtrader reads; use a smaller file/,
    );
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, `{"a": ${'['.repeat(100)}${']'.repeat(100)}}`);
    await store.set('/ws/a.py', { marketDataFile: deep });
    assert.throws(() => store.resolve('/ws/a.py'), /nested deeper than 64 levels/);
    writeFileSync(deep, `{"a": ${'['.repeat(60)}${']'.repeat(60)}}`);
    assert.deepEqual(Object.keys(store.resolve('/ws/a.py').marketData ?? {}), ['a']);
  });

  it('workspace state of the wrong shape is named when a run starts, never run with or crashed on', async () => {
    const state = memento();
    const store = new RunInputsStore(state);
    const signal = join(dir, 'sell.json');
    writeFileSync(signal, '{"side": "sell"}');
    const damaged: Array<[unknown, RegExp]> = [
      ['text', /the entry is string, not an object/],
      [[1, 2], /the entry is a list, not an object/],
      [{ parameters: 'quantity=5' }, /parameters is string, not a dict of parameters/],
      [{ parameters: [5000] }, /parameters is a list, not a dict of parameters/],
      [{ signalFile: 42 }, /signalFile is number, not a file path/],
      [{ marketDataFile: '' }, /marketDataFile is empty, not a file path/],
      [{ signalFile: { path: signal } }, /signalFile is an object, not a file path/],
    ];
    for (const [entry, problem] of damaged) {
      await state.update('sptrader.runInputs', { '/ws/a.py': entry });
      assert.throws(
        () => store.resolve('/ws/a.py'),
        (e: Error) =>
          problem.test(e.message) &&
          /^the inputs remembered for a\.py in this workspace are damaged \(.*\); set them again with "SPtrader: Set Component Inputs…"$/.test(
            e.message,
          ),
        JSON.stringify(entry),
      );
    }
    // The parts of the right type are kept for the menu (and a new choice replaces the damaged part).
    await state.update('sptrader.runInputs', { '/ws/a.py': { parameters: [1], signalFile: signal } });
    assert.deepEqual(store.get('/ws/a.py'), { signalFile: signal });
    await store.set('/ws/a.py', { ...store.get('/ws/a.py'), parameters: { quantity: 5 } });
    assert.deepEqual(store.resolve('/ws/a.py').parameters, { quantity: 5 });
    // A store that is not an object of entries at all reads as nothing remembered, and is replaced on the next set.
    for (const all of ['text', 7, [{ parameters: {} }], null]) {
      await state.update('sptrader.runInputs', all);
      assert.deepEqual(store.resolve('/ws/a.py'), { summary: '' }, JSON.stringify(all));
    }
    await store.set('/ws/a.py', { signalFile: signal });
    assert.deepEqual(store.resolve('/ws/a.py').signal, { side: 'sell' });
    // No entry is found through the object's prototype.
    await state.update('sptrader.runInputs', {});
    assert.deepEqual(store.resolve('constructor'), { summary: '' });
    assert.deepEqual(store.resolve('__proto__'), { summary: '' });
  });

  it('a replay of a component starts from its inputs when it has some, else from its last replay (issue 14)', () => {
    assert.deepEqual(replayStartingParameters({ parameters: { quantity: 5000 } }, { period: 30 }), {
      parameters: { quantity: 5000 },
      from: 'component inputs',
    });
    assert.deepEqual(replayStartingParameters({ signalFile: '/ws/s.json' }, { period: 30 }), {
      parameters: { period: 30 },
      from: 'last replay',
    });
    assert.deepEqual(replayStartingParameters({ parameters: {} }, undefined), { parameters: {}, from: 'defaults' });
  });
});
