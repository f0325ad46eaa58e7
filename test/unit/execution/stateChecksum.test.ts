/**
 * State files that carry a checksum (common/checksum.ts): trading-state.json here (the paper account's in
 * test/unit/paper/persistence.test.ts). A flipped bit that leaves valid JSON of the right shape — a digit of a
 * resume time or of the day's starting equity — would otherwise be obeyed; with the checksum it is damage.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { checkSeal, crc32Js, sealJson } from '../../../src/common/checksum';
import { TestClock } from '../../../src/common/clock';
import { TradingStateStore } from '../../../src/execution/tradingState';

describe('state file checksums', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-checksum-'));
    file = join(dir, 'trading-state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('seals compact and indented JSON; the seal checks; the text without it is the text sealed', () => {
    for (const text of ['{"a":1,"b":"x"}', `${JSON.stringify({ a: 1, b: [1, 2], c: null }, null, 2)}\n`]) {
      const sealed = sealJson(text);
      assert.deepEqual(checkSeal(sealed), { sealed: true });
      assert.deepEqual(JSON.parse(sealed), {
        ...(JSON.parse(text) as object),
        crc32: sealed.match(/[0-9a-f]{8}/)?.[0],
      });
      assert.deepEqual(checkSeal(text), { sealed: false });
    }
  });

  it('the table CRC-32 (for a Node without zlib.crc32) is zlib’s', () => {
    const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
    if (!native) return;
    for (const text of ['', 'a', '{"version":1,"state":"HALTED"}', 'é€😀'.repeat(50)]) {
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(crc32Js(bytes), native(bytes), text);
    }
  });

  it('trading-state.json behind the audit log after a halt it could not save: the damage says the save failed, not only that a copy was put back', () => {
    const clock = new TestClock();
    const store = new TradingStateStore(file, clock);
    store.set('ACTIVE', 'trading', 'user');
    // The temp file's name taken by a folder: the next save fails as a full disk would.
    mkdirSync(`${file}.${process.pid}.tmp`);
    clock.advance(1000);
    assert.ok(store.set('HALTED', 'stop', 'user'), 'a halt takes effect even unsaved');
    assert.ok(store.lastSaveError);
    const reopened = new TradingStateStore(file, clock, undefined, {
      state: 'HALTED',
      reason: 'stop',
      source: 'user',
      at: clock.now(),
      seq: 9,
    });
    assert.equal(reopened.state, 'HALTED', 'the log’s halt is taken');
    assert.match(reopened.damage ?? '', /could not be saved to it .*StateSaveFailed.*or an older copy was put back/);
  });

  it('trading-state.json: every flipped bit is damage (the engine starts halted and names the file), never obeyed', () => {
    const clock = new TestClock();
    const store = new TradingStateStore(file, clock);
    store.set('HALTED', 'a timed halt', 'circuit_breaker', clock.now() + 300_000);
    const bytes = readFileSync(file);
    assert.equal(new TradingStateStore(file, clock).loadProblem, undefined, 'the file as written loads');
    let missed = 0;
    // Each byte, one bit of it (a different one byte to byte): CRC-32 finds every single-bit change.
    for (let at = 0; at < bytes.length; at++) {
      const damaged = Buffer.from(bytes);
      damaged[at] = (damaged[at] as number) ^ (1 << (at % 8));
      writeFileSync(file, damaged);
      const loaded = new TradingStateStore(file, clock);
      if (loaded.loadProblem === undefined || loaded.state !== 'HALTED' || !loaded.loadProblem.includes(file)) missed++;
    }
    assert.equal(missed, 0, `${missed} flipped bits were read as a trading state`);
  });

  it('a trading-state.json written before checksums still loads; one with a key it never had does not', () => {
    const clock = new TestClock();
    const record = {
      version: 1,
      state: 'HALTED',
      reason: 'old',
      source: 'user',
      since: clock.now(),
      resumeAt: null,
      day: null,
      dayStartEquity: null,
    };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    const old = new TradingStateStore(file, clock);
    assert.equal(old.loadProblem, undefined);
    assert.equal(old.state, 'HALTED');
    writeFileSync(file, `${JSON.stringify({ ...record, crc33: '00000000' }, null, 2)}\n`);
    assert.match(new TradingStateStore(file, clock).loadProblem ?? '', /crc33/);
  });
});
