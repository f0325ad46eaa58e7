/**
 * Components that misbehave on every record (or on one) over 20,000 generated candles, with a real python3: a
 * replay stops at once, saying where and why, when records fail the same way many times in a row, print past the
 * output limit or call sys.exit(); one that fails now and then, or while it warms up, still runs to the end with its
 * failures counted by code.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayComponent, type ReplayReport, type ReplayRequest } from '../../../src/usecases/replay';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

const T0 = Date.UTC(2022, 0, 3);
const RECORDS = 20_000;
const iso = (k: number): string => new Date(T0 + k * 60_000).toISOString();

/** Minute candles on a deterministic walk, as a CSV file. */
function candlesCsv(file: string, n: number): void {
  const lines = ['time,open,high,low,close,volume'];
  let mid = 108_500;
  for (let i = 0; i < n; i++) {
    const open = mid;
    mid += ((i * 7919) % 9) - 4;
    lines.push(
      `${iso(i)},${open / 1e5},${(Math.max(open, mid) + 1) / 1e5},${(Math.min(open, mid) - 1) / 1e5},${mid / 1e5},100`,
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** A component whose generate_order runs `body` (indented 8 spaces), `market_data` as `md`. */
const component = (body: string): string => `import os
import sys
from core.orders.order_base import OrderBase

class C(OrderBase):
    def generate_order(self, md, signal=None):
        k = md['bar_index']
${body}
        return None
`;
const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy' if k % 2 else 'sell', 'order_type': 'market', 'quantity': 1000}";

describe('replay of components that misbehave', function () {
  this.timeout(60_000);
  let dir: string;
  let data: string;
  let worker: PythonWorker;
  let runs = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-misbehaving-'));
    data = join(dir, 'candles.csv');
    candlesCsv(data, RECORDS);
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 20_000,
    });
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const replay = (body: string, options: Partial<ReplayRequest> = {}): Promise<ReplayReport> => {
    const folder = join(dir, `run-${++runs}`);
    mkdirSync(folder);
    const file = join(folder, 'component.py');
    writeFileSync(file, component(body));
    return replayComponent({ file, data, runner: worker, stateDir: join(folder, 'state'), ...options });
  };

  it('one that raises on every record stops after 1,000 in a row, naming them, their time, the exception and its line', async () => {
    const report = await replay('        return 1000 / (md["close"] - md["close"])');
    assert.equal(report.ok, false);
    assert.deepEqual(report.fatal, {
      index: 999,
      time: iso(999),
      code: 'REPEATED_COMPONENT_ERROR',
      line: 8,
      message:
        `1,000 records in a row, #0 (${iso(0)}) to #999, failed with the same error, so the replay stopped: ` +
        'COMPONENT_ERROR: generate_order raised ZeroDivisionError: float division by zero. Fix it, or return None on ' +
        'records the component cannot decide on yet (while it warms up, say); to replay every record whatever ' +
        'fails, set maxConsecutiveErrors to 0 (CLI --max-consecutive-errors 0; editor setting ' +
        'sptrader.replay.maxConsecutiveErrors)',
    });
    assert.equal(report.processed, 1000);
    assert.equal(report.errorCount, 1000);
    assert.deepEqual(report.errorsByCode, { COMPONENT_ERROR: 1000 });
    // The worker ended its batch at the same record: one round trip, not the whole batch of 2,048.
    assert.equal(report.batches, 1);
    assert.equal(report.orders.noOrder, 0);
  });

  it('counts the run across batches, and the worker stops where the replay does', async () => {
    // Orders on records 0..99 (every batch of 64 before the run sends the next ahead), then every record raises.
    const body = `        if k < 100:\n            return ${ORDER}\n        raise KeyError('signal_strength')`;
    const report = await replay(body, { batchSize: 64, maxConsecutiveErrors: 300 });
    assert.equal(report.fatal?.code, 'REPEATED_COMPONENT_ERROR');
    assert.equal(report.fatal?.index, 399);
    assert.match(
      report.fatal?.message ?? '',
      /^300 records in a row, #100 \(.*\) to #399, .*KeyError: 'signal_strength'/,
    );
    assert.equal(report.processed, 400);
    assert.equal(report.orders.sent, 100);
    assert.equal(report.fills, 100);
    // Batches 0..63, …, 384..447 (the last ended by the worker after record 399): 7, each ending where the replay acts.
    assert.equal(report.batches, 7);
  });

  it('one that raises on every 100th record, or only while it warms up, runs to the end with its failures counted by code', async () => {
    const sometimes = await replay(
      `        if k % 100 == 99:\n            raise ValueError('no quote')\n        if k % 250 == 0:\n            return ${ORDER}`,
    );
    assert.equal(sometimes.ok, true, JSON.stringify(sometimes.fatal));
    assert.equal(sometimes.processed, RECORDS);
    assert.equal(sometimes.errorCount, 200);
    assert.deepEqual(sometimes.errorsByCode, { COMPONENT_ERROR: 200 });
    assert.equal(sometimes.orders.sent, 80);
    assert.equal(sometimes.fills, 80);
    // 999 records raising while a 1,000-bar average fills is one short of the run that stops a replay.
    candlesCsv(join(dir, 'short.csv'), 3000);
    const warmed = await replay("        if k < 999:\n            raise IndexError('list index out of range')", {
      data: join(dir, 'short.csv'),
    });
    assert.equal(warmed.ok, true, JSON.stringify(warmed.fatal));
    assert.equal(warmed.processed, 3000);
    assert.deepEqual(warmed.errorsByCode, { COMPONENT_ERROR: 999 });
  });

  it('failures of different kinds, or at different lines, are not one run; maxConsecutiveErrors 0 never stops', async () => {
    candlesCsv(join(dir, 'mixed.csv'), 2500);
    const mixed = await replay(
      "        if k % 2:\n            raise ValueError('odd')\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'quantity': object()}",
      { data: join(dir, 'mixed.csv') },
    );
    assert.equal(mixed.ok, true, JSON.stringify(mixed.fatal));
    assert.deepEqual(mixed.errorsByCode, { COMPONENT_ERROR: 1250, NOT_SERIALIZABLE: 1250 });
    const unlimited = await replay("        raise ValueError('always')", {
      data: join(dir, 'mixed.csv'),
      maxConsecutiveErrors: 0,
    });
    assert.equal(unlimited.ok, true, JSON.stringify(unlimited.fatal));
    assert.equal(unlimited.errorCount, 2500);
  });

  it('huge or non-JSON answers on every record stop the replay as one repeated failure', async () => {
    const huge = await replay(`        return dict(${ORDER}, note='x' * 2_000_000)`, { maxConsecutiveErrors: 200 });
    assert.equal(huge.fatal?.code, 'REPEATED_COMPONENT_ERROR');
    assert.equal(huge.fatal?.index, 199);
    assert.equal(huge.fatal?.line, 8);
    assert.match(huge.fatal?.message ?? '', /ANSWER_TOO_LARGE: .*order\.note is a string of 2,000,000 characters/);
    assert.equal(huge.orders.sent, 0);
    const opaque = await replay("        return {'symbol': 'EUR_USD', 'side': 'buy', 'quantity': object()}");
    assert.equal(opaque.fatal?.index, 999);
    assert.match(opaque.fatal?.message ?? '', /NOT_SERIALIZABLE: the value at order\.quantity is an object/);
  });

  it('a record that prints without end, or calls sys.exit() or os._exit(), ends the replay there; the records before count', async () => {
    const cases: Array<[string, string, number]> = [
      [
        `        if k == 700:\n            while True:\n                print('tick', md['close'])\n        if k == 5:\n            return ${ORDER}`,
        'OUTPUT_LIMIT_EXCEEDED',
        10,
      ],
      ['        if k == 3000:\n            sys.exit(3)', 'COMPONENT_EXIT', 9],
      ['        if k == 2100:\n            os._exit(0)', 'COMPONENT_EXIT', 9],
    ];
    for (const [body, code, line] of cases) {
      const report = await replay(body);
      const at = Number(/k == (\d+)/.exec(body)?.[1]);
      assert.equal(report.fatal?.code, code, report.fatal?.message);
      assert.equal(report.fatal?.index, at);
      assert.equal(report.fatal?.time, iso(at));
      assert.equal(report.fatal?.line, line, report.fatal?.message);
      assert.equal(report.processed, at);
      assert.equal(report.errorCount, 0);
    }
    const printed = await replay(cases[0]?.[0] ?? '');
    assert.match(
      printed.fatal?.message ?? '',
      /printed more than the limit of 1,048,576 bytes on record 700 \(the print at line 10 passed it\)/,
    );
    assert.equal(printed.orders.sent, 1);
    assert.equal(printed.fills, 1);
    const exited = await replay(cases[1]?.[0] ?? '');
    assert.match(exited.fatal?.message ?? '', /called sys\.exit\(3\) inside generate_order at line 9/);
  });

  it('a record that sleeps past the time limit ends the replay at it, naming the line', async () => {
    const quick = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 500,
    });
    try {
      const report = await replay("        if k == 1500:\n            __import__('time').sleep(60)", { runner: quick });
      assert.equal(report.fatal?.code, 'TIMEOUT');
      assert.equal(report.fatal?.index, 1500);
      assert.equal(report.fatal?.line, 9);
      assert.equal(report.processed, 1500);
    } finally {
      await quick.dispose();
    }
  });
});
