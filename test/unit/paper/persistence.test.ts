/** The paper account on disk: atomic, validated, reloaded whole, never silently replaced. */
import { StateDamagedError, StateFileError } from '../../../src/common/stateErrors';
import assert from 'node:assert/strict';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBrokerError } from '../../../src/brokers/errors';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { journalFile, readPaperAccount, resetFile } from '../../../src/brokers/paper/state';
import { TestClock } from '../../../src/common/clock';
import { sealJson } from '../../../src/common/checksum';
import { FixedQuotes, GTC, gtd, limit, order, stop } from './helpers';

describe('PaperBroker persistence', () => {
  let dir: string;
  let file: string;
  let clock: TestClock;
  let quotes: FixedQuotes;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-paper-'));
    file = join(dir, 'nested', 'paper-account.json');
    clock = new TestClock();
    quotes = new FixedQuotes();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = async (options: { seed?: number; withQuotes?: boolean; journalLimitBytes?: number } = {}) => {
    const b = new PaperBroker({
      clock,
      stateFile: file,
      ...(options.journalLimitBytes === undefined ? {} : { journalLimitBytes: options.journalLimitBytes }),
      ...(options.withQuotes === false ? {} : { quotes }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    await b.connect();
    return b;
  };

  it('a new broker on the same file sees cash, positions and resting orders; a resting order then fills after reload', async () => {
    const first = await open();
    await first.submitOrder(order('buy', 10)); // at 100.02
    quotes.set('BTCUSDT', 65000, 65000.02);
    await first.submitOrder(order('buy', 0.1, { type: 'market' }, GTC, 'BTCUSDT'));
    const resting = await first.submitOrder(order('buy', 5, limit(99)));
    const stopOrder = await first.submitOrder(order('sell', 5, stop(99.5), gtd(clock.now() + 60_000)));
    await first.disconnect();
    assert.deepEqual(
      readdirSync(join(dir, 'nested')).sort(),
      ['paper-account.json', 'paper-account.json.journal'],
      'no temp file left behind',
    );

    const second = await open();
    assert.deepEqual(second.getCashBalances(), { USD: 98_999.8, USDT: -6506.502002 });
    assert.deepEqual(
      (await second.getPositions()).map((p) => [p.symbol, p.quantity, p.average_price]),
      [
        ['AAPL', 10, 100.02],
        ['BTCUSDT', 0.1, 65000.02],
      ],
    );
    assert.deepEqual(
      (await second.listOpenOrders()).map((o) => [o.order_id, o.status.status]),
      [
        [resting.order_id, 'submitted'],
        [stopOrder.order_id, 'submitted'],
      ],
    );
    quotes.move(98.5, 98.52);
    second.poll();
    assert.equal((await second.getOrderStatus(resting.order_id)).filled_price, 99);
    assert.equal((await second.getOrderStatus(stopOrder.order_id)).filled_price, 98.5);

    const third = await open();
    assert.deepEqual(
      (await third.getPositions()).map((p) => p.quantity),
      [10, 0.1],
    );
    assert.equal(third.getFills().length, 4);
    const next = await third.submitOrder(order('buy', 1));
    assert.deepEqual([next.order_id, next.fills[0]?.fill_id], ['P-5', 'PF-5']);
  });

  it('the account and its journal are private to the user (0600): they hold balances, positions and orders', async function () {
    if (process.platform === 'win32') this.skip();
    const b = await open({ journalLimitBytes: 8 * 1024 });
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 1, limit(99)));
    assert.equal(statSync(file).mode & 0o777, 0o600, 'paper-account.json');
    assert.equal(statSync(journalFile(file)).mode & 0o777, 0o600, 'its journal');
    // A fold writes a new snapshot: private too.
    for (let i = 0; i < 60; i++) await b.submitOrder(order(i % 2 ? 'sell' : 'buy', 1));
    assert.equal(statSync(file).mode & 0o777, 0o600, 'paper-account.json after a fold');
  });

  it('stores amounts as exact decimal strings', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 3));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      cash: Record<string, string>;
      positions: Array<{ quantity: string }>;
    };
    assert.deepEqual(saved.cash, { USD: '996999400000000' }); // 99 699.94 in 10^-10 units
    assert.equal(saved.positions[0]?.quantity, '30000000000');
  });

  it('the saved file already holds a fill when its update is delivered (snapshot, then journal)', async () => {
    const b = await open();
    const onDisk: string[] = [];
    b.onOrderUpdate((u) => {
      if (u.fill) onDisk.push(JSON.stringify(readPaperAccount(file)?.state.fills.map((f) => f.fill_id)));
    });
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2));
    assert.deepEqual(onDisk, ['["PF-1"]', '["PF-1","PF-2"]']);
    assert.ok(readFileSync(journalFile(file), 'utf8').includes('"PF-2"'), 'the second change is a journal line');
  });

  it('a change is one journal line; past the limit the journal folds into a new snapshot; the account reloads the same', async () => {
    const b = await open({ journalLimitBytes: 8 * 1024 });
    await b.submitOrder(order('buy', 1));
    const snapshotSize = readFileSync(file).length;
    await b.submitOrder(order('buy', 1, limit(99)));
    assert.equal(readFileSync(file).length, snapshotSize, 'the snapshot is not rewritten for a change');
    assert.equal(readFileSync(journalFile(file), 'utf8').split('\n').length - 1, 1);
    const generations = new Set<number>();
    for (let i = 0; i < 60; i++) {
      await b.submitOrder(order(i % 2 ? 'sell' : 'buy', 1 + (i % 3)));
      generations.add((JSON.parse(readFileSync(file, 'utf8')) as { generation: number }).generation);
    }
    assert.ok(
      generations.size >= 2,
      `the journal was folded into a new snapshot (generations ${[...generations].join(', ')})`,
    );
    const again = await open();
    assert.deepEqual(again.getCashBalances(), b.getCashBalances());
    assert.deepEqual(await again.getPositions(), await b.getPositions());
    assert.deepEqual(await again.listOpenOrders(), await b.listOpenOrders());
    assert.deepEqual(again.getFills(), b.getFills());
    assert.deepEqual((await again.submitOrder(order('buy', 1))).order_id, 'P-63');
  });

  it('a torn last journal line (a crash while writing) is cut off; the account is the one before it', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2));
    const whole = readFileSync(journalFile(file), 'utf8');
    writeFileSync(journalFile(file), `${whole}{"generation":0,"cash":{"USD":"1`);
    const again = await open();
    assert.deepEqual(again.getCashBalances(), b.getCashBalances());
    assert.equal(readFileSync(journalFile(file), 'utf8'), whole, 'the torn line was cut off');
  });

  it('an unfinished last line that is not the start of a journal line is damage, not a torn write: nothing is cut off', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2));
    const whole = readFileSync(journalFile(file), 'utf8');
    for (const tail of ['\u0000garbage written over the end', 'x'.repeat(40), '[1,2,3]']) {
      writeFileSync(journalFile(file), `${whole}${tail}`);
      const c = new PaperBroker({ clock, quotes, stateFile: file });
      await assert.rejects(
        c.connect(),
        (e) =>
          e instanceof StateDamagedError &&
          e.file === journalFile(file) &&
          e.message.includes(
            `line ${whole.split('\n').length} is neither a paper account change nor the start of one`,
          ) &&
          /sptrader recover/.test(e.message),
      );
      assert.equal(readFileSync(journalFile(file), 'utf8'), `${whole}${tail}`, 'the journal is left as it was');
    }
    // Zeros where an append's data never reached the disk (the size did) are a torn write too.
    writeFileSync(journalFile(file), `${whole}${'\u0000'.repeat(64)}`);
    const again = await open();
    assert.deepEqual(again.getCashBalances(), b.getCashBalances());
    assert.equal(readFileSync(journalFile(file), 'utf8'), whole, 'the zeros were cut off');
  });

  it('a last line of zeros with its newline (a power loss during an append) is a torn write, cut off; zeros earlier are damage', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2));
    await b.submitOrder(order('buy', 3));
    const whole = readFileSync(journalFile(file), 'utf8');
    const lines = whole.split('\n').slice(0, -1);
    const last = lines[lines.length - 1] as string;
    // The next append as the disk may hold it: zeros where its first blocks never landed, its end (and newline)
    // in a block that did; or only zeros, its newline among them; or zeros after it too.
    const appended = `${'\u0000'.repeat(last.length - 20)}${last.slice(-20)}\n`;
    for (const tail of [appended, `${'\u0000'.repeat(200)}\n`, `${appended}${'\u0000'.repeat(30)}`]) {
      writeFileSync(journalFile(file), `${whole}${tail}`);
      const again = await open();
      assert.deepEqual(again.getCashBalances(), b.getCashBalances(), JSON.stringify(tail.slice(-30)));
      assert.equal(readFileSync(journalFile(file), 'utf8'), whole, 'the zeroed line was cut off');
      await again.disconnect();
    }
    // Zeros in a line that is not the last one are not an append cut short: the file was damaged.
    const damaged = [lines[0], '\u0000'.repeat(50), ...lines.slice(1)].join('\n') + '\n';
    writeFileSync(journalFile(file), damaged);
    await assert.rejects(
      new PaperBroker({ clock, quotes, stateFile: file }).connect(),
      (e) => e instanceof StateDamagedError && e.file === journalFile(file) && /line 2/.test(e.message),
    );
    assert.equal(readFileSync(journalFile(file), 'utf8'), damaged, 'the journal is left as it was');
  });

  it('a corrupt journal line is a clear error naming the file and line, and the files are left as they were', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2));
    await b.submitOrder(order('buy', 3));
    const lines = readFileSync(journalFile(file), 'utf8').split('\n');
    lines[0] = sealJson('{"generation":0,"cash":{"USD":"abc"}}');
    const corrupt = lines.join('\n');
    writeFileSync(journalFile(file), corrupt);
    const c = new PaperBroker({ clock, quotes, stateFile: file });
    await assert.rejects(
      c.connect(),
      (e) =>
        e instanceof StateDamagedError &&
        e.file === journalFile(file) &&
        /line 1 is not a paper account change/.test(e.message) &&
        /sptrader recover/.test(e.message),
    );
    assert.equal(readFileSync(journalFile(file), 'utf8'), corrupt);
  });

  it('journal lines swapped, repeated or lost are damage naming the file and line, never an account rolled back', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1)); // the snapshot
    await b.submitOrder(order('buy', 2));
    await b.submitOrder(order('buy', 3));
    const resting = await b.submitOrder(order('buy', 4, limit(99)));
    const whole = readFileSync(journalFile(file), 'utf8');
    const lines = whole.split('\n').slice(0, -1);
    assert.equal(lines.length, 3, 'three changes, three journal lines');
    const damaged: Array<[string, string[], number]> = [
      // The last line read wins the books: an older one last rolled the order counter back, so the next
      // order took the resting one's venue id and replaced it in the book.
      ['two lines swapped', [lines[0], lines[2], lines[1]] as string[], 2],
      ['a line repeated after a later one', [lines[0], lines[1], lines[2], lines[0]] as string[], 4],
      ['the first line lost', [lines[1], lines[2]] as string[], 1],
    ];
    for (const [what, content, badLine] of damaged) {
      writeFileSync(journalFile(file), `${content.join('\n')}\n`);
      const c = new PaperBroker({ clock, quotes, stateFile: file });
      await assert.rejects(
        c.connect(),
        (e) =>
          e instanceof StateDamagedError &&
          e.file === journalFile(file) &&
          e.message.includes(`line ${badLine} holds`) &&
          /lost, repeated or put out of order/.test(e.message) &&
          /sptrader recover/.test(e.message),
        what,
      );
      assert.equal(readFileSync(journalFile(file), 'utf8'), `${content.join('\n')}\n`, `${what}: left as it was`);
    }
    writeFileSync(journalFile(file), whole);
    const again = await open();
    assert.deepEqual(
      (await again.listOpenOrders()).map((o) => o.order_id),
      [resting.order_id],
    );
    assert.equal(
      (await again.submitOrder(order('buy', 1))).order_id,
      'P-5',
      'the counter went on from the last change',
    );
    // Numbering goes on after a reload, and starts again after a snapshot.
    assert.deepEqual(
      readFileSync(journalFile(file), 'utf8')
        .split('\n')
        .slice(0, -1)
        .map((l) => (JSON.parse(l) as { line: number }).line),
      [1, 2, 3, 4],
    );
  });

  it('a change that could not be journalled is not lost: the next change writes a whole snapshot', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    mkdirSync(journalFile(file)); // the journal cannot be opened for appending
    await assert.rejects(b.submitOrder(order('buy', 2, limit(99))), (e) => isBrokerError(e) && e.reason === 'INTERNAL');
    rmdirSync(journalFile(file));
    await b.submitOrder(order('buy', 3));
    const again = await open();
    assert.deepEqual(
      (await again.listOpenOrders()).map((o) => [o.order_id, o.quantity]),
      [['P-2', 2]],
    );
    assert.deepEqual(again.getCashBalances(), b.getCashBalances());
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { generation: number }).generation, 1, 'a new generation');
  });

  it('journal lines of an earlier snapshot (a crash between writing it and emptying the journal) are ignored', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    const stale = JSON.stringify({
      generation: 7,
      cash: { USD: '1' },
      realized: {},
      positions: [],
      counters: { order: 99, fill: 99 },
      orders: [],
      removed: [],
      fills: [],
    });
    writeFileSync(journalFile(file), `${sealJson(stale)}\n`);
    const again = await open();
    assert.deepEqual(again.getCashBalances(), b.getCashBalances());
    assert.equal((await again.submitOrder(order('buy', 1))).order_id, 'P-2');
  });

  it('a journal hard-linked into another folder (two folders would append to one account) is refused naming it; nothing is changed', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2));
    const journal = journalFile(file);
    assert.ok(existsSync(journal), 'the second change is a journal line');
    const other = join(dir, 'other.journal');
    linkSync(journal, other);
    const before = readFileSync(journal);
    assert.throws(
      () => readPaperAccount(file),
      (e: unknown) =>
        e instanceof StateFileError &&
        e.file === journal &&
        /has 2 names \(hard links\)/.test(e.problem) &&
        /cp -p /.test(e.remedy ?? ''),
    );
    await assert.rejects(open(), /has 2 names \(hard links\)/);
    assert.deepEqual(readFileSync(journal), before, 'the journal is as it was');
    rmSync(other);
    const own = await open();
    assert.deepEqual(await own.getPositions(), await b.getPositions(), 'with a name of its own it loads');
  });

  it('a corrupt or invalid file is a StateDamagedError naming the file and recover; the file is left as it was', async () => {
    for (const content of ['{"version": 2, "cash": ', '{"version": 2, "cash": {"USD": "abc"}}', '']) {
      const b = new PaperBroker({ clock, quotes, stateFile: join(dir, 'bad.json') });
      writeFileSync(join(dir, 'bad.json'), content);
      await assert.rejects(
        b.connect(),
        (e) => e instanceof StateDamagedError && e.file === join(dir, 'bad.json') && /sptrader recover/.test(e.message),
      );
      assert.equal(b.isConnected(), false);
      assert.equal(readFileSync(join(dir, 'bad.json'), 'utf8'), content);
    }
  });

  it('an account file of the wrong shape names the field that is wrong, not just "invalid input"', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.disconnect();
    const { crc32: _, ...saved } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const cases: Array<[unknown, RegExp]> = [
      [{ ...saved, positions: [{ symbol: 'EUR_USD', quantity: 10000, averagePrice: '1' }] }, /positions\.0\.quantity/],
      [{ ...saved, counters: { order: -1, fill: 0 } }, /counters\.order/],
      // A format past this version's is a newer SPtrader's file, said as such (not "not a paper account").
      [
        { ...saved, version: 3 },
        /written by a newer version of SPtrader \(format 3; this version reads formats up to 2\)/,
      ],
      [{}, /version: expected 1 or 2, got nothing/],
      [[], /expected a JSON object, got an array/],
      [null, /expected a JSON object, got null/],
    ];
    for (const [content, names] of cases) {
      // Sealed as SPtrader writes, so that the layout is what is checked (not the checksum: see below).
      const text = JSON.stringify(content);
      writeFileSync(file, text.startsWith('{"') ? sealJson(text) : text);
      const c = new PaperBroker({ clock, quotes, stateFile: file });
      await assert.rejects(
        c.connect(),
        (e) =>
          e instanceof StateDamagedError &&
          e.file === file &&
          names.test(e.message) &&
          !/Invalid input\)/.test(e.message) &&
          /sptrader recover/.test(e.message),
        `${JSON.stringify(content).slice(0, 80)} → ${String(names)}`,
      );
    }
  });

  it('a journal without its snapshot (the account file deleted) is damage, never a fresh account; nothing is deleted', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 10));
    await b.submitOrder(order('buy', 5));
    await b.disconnect();
    assert.ok(existsSync(journalFile(file)));
    rmSync(file);
    const c = new PaperBroker({ clock, quotes, stateFile: file });
    await assert.rejects(
      c.connect(),
      (e) => e instanceof StateDamagedError && e.file === file && /missing while its journal/.test(e.message),
    );
    assert.ok(existsSync(journalFile(file)), 'the journal is left for recover');
  });

  it('reset clears the account and the file, even after a corrupt file refused to load', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 10));
    b.reset();
    assert.equal(existsSync(file), false);
    assert.deepEqual(await b.getPositions(), []);
    assert.deepEqual(b.getCashBalances(), { USD: 100_000 });
    writeFileSync(file, 'garbage');
    const c = new PaperBroker({ clock, quotes, stateFile: file });
    await assert.rejects(c.connect());
    c.reset();
    await c.connect();
    assert.equal((await c.submitOrder(order('buy', 1))).order_id, 'P-1');
  });

  it('a reset killed after it moved the account aside reads as reset: the journal and the moved file go on the next load', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 10));
    await b.submitOrder(order('buy', 5));
    assert.ok(existsSync(journalFile(file)));
    // What `deletePaperState` leaves when killed right after its one rename (the crash suite kills it there too).
    renameSync(file, resetFile(file));
    const c = await open();
    assert.deepEqual(await c.getPositions(), []);
    assert.deepEqual(c.getCashBalances(), { USD: 100_000 });
    assert.equal(c.fillsEver(), 0);
    assert.deepEqual(readdirSync(join(dir, 'nested')), [], 'the journal and the moved account are gone');
  });

  it('an account set aside by a reset beside a newer account file is removed; the account and its journal are kept', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 10));
    await b.submitOrder(order('buy', 5));
    writeFileSync(resetFile(file), 'an older account');
    const c = await open();
    assert.equal(c.fillsEver(), 2);
    assert.ok(existsSync(journalFile(file)), "the journal is the account's own");
    assert.equal(existsSync(resetFile(file)), false);
  });

  it('the first snapshot after a reset is a new generation, so no journal line of the deleted account applies to it', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 10));
    await b.submitOrder(order('buy', 5));
    const before = (JSON.parse(readFileSync(file, 'utf8')) as { generation: number }).generation;
    const oldJournal = readFileSync(journalFile(file), 'utf8');
    b.reset();
    await b.submitOrder(order('buy', 1));
    const after = (JSON.parse(readFileSync(file, 'utf8')) as { generation: number }).generation;
    assert.ok(after > before, `generation ${after} after the reset, ${before} before`);
    // A journal of the deleted account left beside the new snapshot (a removal that failed) is ignored.
    writeFileSync(journalFile(file), oldJournal);
    const c = await open();
    assert.equal(c.fillsEver(), 1);
    assert.deepEqual(await c.getPositions(), await b.getPositions());
  });

  it('reset with a directory in the place of the account file is a StateFileError naming it; nothing is removed', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 10));
    await b.submitOrder(order('buy', 5));
    rmSync(file);
    mkdirSync(file);
    const c = new PaperBroker({ clock, quotes, stateFile: file });
    assert.throws(
      () => c.reset(),
      (e) => e instanceof StateFileError && e.file === file && /directory is in the place/.test(e.message),
    );
    assert.ok(existsSync(journalFile(file)), 'the journal is left');
  });

  it('a flipped bit anywhere in the account file or a journal line is found (checksum), naming the file and line; nothing is changed', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2, limit(99)));
    await b.submitOrder(order('buy', 3));
    const account = readFileSync(file);
    const journal = readFileSync(journalFile(file));
    let found = 0;
    let tried = 0;
    for (const [target, bytes] of [
      [file, account],
      [journalFile(file), journal],
    ] as const) {
      // Every 5th byte, each a different bit: valid JSON of the right shape included (a digit of an amount, a letter of an id).
      for (let at = 0; at < bytes.length; at += 5) {
        if (bytes[at] === 0x0a) continue; // a line break is where a journal line ends, not part of one
        {
          const damaged = Buffer.from(bytes);
          damaged[at] = (damaged[at] as number) ^ (1 << (at % 8));
          writeFileSync(target, damaged);
          tried++;
          const c = new PaperBroker({ clock, quotes, stateFile: file });
          try {
            await c.connect();
          } catch (e) {
            if (
              e instanceof StateDamagedError &&
              (e.file === file || e.file === journalFile(file)) &&
              /sptrader recover/.test(e.message)
            )
              found++;
          }
          assert.deepEqual(readFileSync(target), damaged, 'the damaged file is left as it was');
        }
        writeFileSync(target, bytes);
      }
    }
    assert.equal(found, tried, `${tried - found} of ${tried} flipped bits went unnoticed`);
    const line = journal.toString('utf8').split('\n')[1] as string;
    // A cash amount changed, the JSON still valid and of the right shape.
    const flipped = line.replace(/"USD":"(\d)/, (_m, d: string) => `"USD":"${d === '9' ? '8' : '9'}`);
    assert.notEqual(flipped, line);
    writeFileSync(journalFile(file), journal.toString('utf8').replace(line, flipped));
    await assert.rejects(
      new PaperBroker({ clock, quotes, stateFile: file }).connect(),
      (e) =>
        e instanceof StateDamagedError &&
        e.file === journalFile(file) &&
        /line 2: its content does not match its checksum/.test(e.message),
    );
  });

  it('an account written before checksums (none in the file or its journal) still loads', async () => {
    const b = await open();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 2, limit(99)));
    const unseal = (text: string): string => text.replace(/,"crc32":"[0-9a-f]{8}"\}$/, '}');
    writeFileSync(file, unseal(readFileSync(file, 'utf8')));
    const lines = readFileSync(journalFile(file), 'utf8').split('\n');
    writeFileSync(journalFile(file), lines.map(unseal).join('\n'));
    assert.doesNotMatch(readFileSync(journalFile(file), 'utf8') + readFileSync(file, 'utf8'), /crc32/);
    const c = await open();
    assert.deepEqual(await c.getPositions(), await b.getPositions());
    assert.deepEqual(await c.listOpenOrders(), await b.listOpenOrders());
    // Its next change is checksummed, and the mix loads.
    await c.submitOrder(order('buy', 3));
    const d = await open();
    assert.deepEqual(await d.getPositions(), await c.getPositions());
  });

  it('keeps the synthetic feed seed with the account', async () => {
    const first = await open({ seed: 42, withQuotes: false });
    const q = await first.getQuote('EUR_USD');
    await first.submitOrder(order('buy', 1000, { type: 'market' }, GTC, 'EUR_USD'));
    const again = await open({ withQuotes: false });
    assert.deepEqual(await again.getQuote('EUR_USD'), q);
  });

  it('upgrades a file in the first layout (one cash balance)', async () => {
    const at = clock.now();
    const response = {
      order_id: 'P-1',
      client_order_id: 'old-1',
      symbol: 'AAPL',
      side: 'buy',
      order_type: { type: 'limit', price: 99 },
      time_in_force: { type: 'GTC' },
      quantity: 2,
      status: { status: 'submitted' },
      filled_price: null,
      filled_quantity: null,
      commission: null,
      timestamp: at,
      created_at: at,
      fills: [],
    };
    const request = {
      symbol: 'AAPL',
      side: 'buy',
      order_type: { type: 'limit', price: 99 },
      quantity: 2,
      time_in_force: { type: 'GTC' },
      metadata: {},
      client_order_id: 'old-1',
    };
    writeFileSync(
      file.replace('nested/', ''),
      JSON.stringify({
        version: 1,
        accountId: 'PAPER-1',
        currency: 'USD',
        cash: '900000000000000',
        nextOrder: 1,
        nextFill: 0,
        positions: [],
        orders: [{ response, request, triggered: false }],
      }),
    );
    const b = new PaperBroker({ clock, quotes, stateFile: file.replace('nested/', '') });
    await b.connect();
    assert.deepEqual(b.getCashBalances(), { USD: 90_000 });
    quotes.move(98, 98.02);
    b.poll();
    assert.equal((await b.getOrderByClientId('old-1'))?.status.status, 'filled');
    assert.equal((await b.submitOrder(order('buy', 1))).order_id, 'P-2');
  });
});
