/** ReplayFeed: CSV and Parquet loading, row validation, and quote look-up. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTime, ReplayDataError, ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { SyntheticFeed } from '../../../src/brokers/paper/feed';

const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);

describe('ReplayFeed', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replayfeed-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a file separated by ';' or tabs (as Excel writes CSV in decimal-comma locales) and names a decimal comma", () => {
    const semi = write('semi.csv', 'time;open;high;low;close\n2024-03-04T00:00:00Z;1.085;1.08517;1.08499;1.08515\n');
    const tab = write(
      'tab.csv',
      'time\topen\thigh\tlow\tclose\n2024-03-04T00:00:00Z\t1.085\t1.08517\t1.08499\t1.08515\n',
    );
    for (const file of [semi, tab]) {
      const feed = ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' });
      assert.deepEqual(feed.record(0).candle, { open: 1.085, high: 1.08517, low: 1.08499, close: 1.08515, volume: 0 });
    }
    const comma = write('comma.csv', 'time;open;high;low;close\n2024-03-04T00:00:00Z;1,085;1,08517;1,08499;1,08515\n');
    assert.throws(
      () => ReplayFeed.fromCsv(comma, { symbol: 'EUR_USD' }),
      (e: unknown) =>
        e instanceof ReplayDataError &&
        /row 1 \(line 2\), column 'open': "1,085" is not a number \(a decimal comma: write the decimal point as "\."\)/.test(
          e.message,
        ),
    );
  });

  it('says a UTF-16 file is UTF-16 (not that it lacks a time column)', () => {
    const file = join(dir, 'u16.csv');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('time,open,high,low,close\n', 'utf16le')]),
    );
    assert.throws(
      () => ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' }),
      (e: unknown) => e instanceof ReplayDataError && /looks UTF-16 encoded.*CSV UTF-8/.test(e.message),
    );
  });

  it('reads candles: the close with a synthetic spread on the tick, sizes at the touch', () => {
    const file = write(
      'c.csv',
      '\ufeffTime, Open,High,Low,Close,Volume,extra\r\n2024-03-04T00:00:00Z,1.08500,1.08517,1.08499,1.08515,423,x\r\n2024-03-04 00:01:00,1.08515,1.08523,1.08510,1.08522,402,y\r\n\r\n',
    );
    const feed = ReplayFeed.fromCsv(file, { symbol: 'EUR_USD', spreadTicks: 10 });
    assert.equal(feed.kind, 'candles');
    assert.deepEqual([...feed.times], [T0, T0 + 60_000]);
    const q = feed.quote('EUR_USD', T0 + 60_000);
    assert.equal(q.bid, 1.08517);
    assert.equal(q.ask, 1.08527);
    assert.equal(q.last, 1.08522);
    assert.equal(q.timestamp, T0 + 60_000);
    assert.equal(q.bid_size, 1_000_000);
    assert.deepEqual(feed.record(0).candle, { open: 1.085, high: 1.08517, low: 1.08499, close: 1.08515, volume: 423 });
    // the instrument's usual spread (12 ticks) by default
    const d = ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' }).quote('EUR_USD', T0);
    assert.equal(Math.round((d.ask - d.bid) / 0.00001), 12);
  });

  it('reads ticks with optional sizes; time as epoch seconds or milliseconds', () => {
    const s = T0 / 1000;
    const file = write(
      't.csv',
      `time,bid,ask,bid_size,ask_size\n${s},1.1,1.1002,5,6\n${s + 0.25},1.1001,1.1003,,\n${T0 + 500},1.1002,1.1004,1,2\n`,
    );
    const feed = ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' });
    assert.equal(feed.kind, 'ticks');
    assert.deepEqual([...feed.times], [T0, T0 + 250, T0 + 500]);
    assert.deepEqual(feed.quote('EUR_USD', T0 + 300), {
      symbol: 'EUR_USD',
      bid: 1.1001,
      ask: 1.1003,
      last: 1.1002,
      bid_size: 1_000_000,
      ask_size: 1_000_000,
      timestamp: T0 + 250,
    });
    assert.equal(feed.quote('EUR_USD', T0).bid_size, 5);
  });

  it('parses the documented time forms', () => {
    assert.equal(parseTime('2024-03-04T00:00:00Z'), T0);
    assert.equal(parseTime('2024-03-04 00:00:00'), T0, 'no offset: UTC');
    assert.equal(parseTime('2024-03-04T01:00:00+01:00'), T0);
    assert.equal(parseTime(T0 / 1000), T0);
    assert.equal(parseTime(String(T0)), T0);
    assert.equal(parseTime(BigInt(T0) * 1000n), T0, 'microseconds');
    assert.equal(parseTime(BigInt(T0) * 1_000_000n), T0, 'nanoseconds');
    assert.equal(parseTime(new Date(T0)), T0);
    assert.match(String(parseTime('yesterday')), /not an ISO 8601 time/);
    assert.match(String(parseTime('')), /empty/);
  });

  const badRows: Array<[string, string, RegExp]> = [
    [
      'time,bid,ask\n2024-03-04T00:00:00Z,1.1,1.1002\n2024-03-04T00:00:01Z,abc,1.1002\n',
      'bid',
      /row 2 \(line 3\), column 'bid': "abc" is not a number/,
    ],
    [
      'time,bid,ask\n2024-03-04T00:00:00Z,1.1,1.1002\n2024-03-04T00:00:01Z,1.1003,1.1002\n',
      'ask',
      /row 2 \(line 3\), column 'ask': 1.1002 is below the bid 1.1003/,
    ],
    [
      'time,bid,ask\n2024-03-04T00:00:05Z,1.1,1.1002\n2024-03-04T00:00:01Z,1.1,1.1002\n',
      'time',
      /row 2 \(line 3\), column 'time': .* is before the previous row's/,
    ],
    ['time,bid,ask\nnot-a-time,1.1,1.1002\n', 'time', /row 1 \(line 2\), column 'time': 'not-a-time' is not an ISO/],
    [
      'time,open,high,low,close\n2024-03-04T00:00:00Z,1.1,1.09,1.08,1.1\n',
      'high',
      /row 1 \(line 2\), column 'high': 1.09 is below/,
    ],
    [
      'time,open,high,low,close\n2024-03-04T00:00:00Z,1.1,1.2,1.08\n',
      'close',
      /row 1 \(line 2\): it has 4 fields but the header has 5: 'close' is missing \(a line cut short\?/,
    ],
    [
      'time,open,high,low,close,volume\n2024-03-04T00:00:00Z,1.1,1.2,1.08,1.1,-3\n',
      'volume',
      /column 'volume': -3 must be 0 or more/,
    ],
    [
      'time,open,high,low,close\n2024-03-04T00:00:00Z,0,1.2,1.08,1.1\n',
      'open',
      /column 'open': 0 must be greater than 0/,
    ],
  ];
  badRows.forEach(([text, column, message], n) => {
    it(`names the file, row and column of a bad '${column}' (#${n + 1})`, () => {
      const file = write('bad.csv', text);
      assert.throws(
        () => ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' }),
        (e: unknown) => {
          assert.ok(e instanceof ReplayDataError);
          assert.equal(e.file, file);
          assert.equal(e.column, column);
          assert.ok(e.message.startsWith(`${file}: row`), e.message);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  });

  it('refuses files without usable columns or rows, and what is not a regular file', async () => {
    assert.throws(
      () => ReplayFeed.fromCsv(write('a.csv', 'when,bid,ask\n1,1,1\n'), { symbol: 'EUR_USD' }),
      /no 'time' column/,
    );
    assert.throws(
      () => ReplayFeed.fromCsv(write('b.csv', 'time,price\n1,1\n'), { symbol: 'EUR_USD' }),
      /neither tick columns/,
    );
    assert.throws(() => ReplayFeed.fromCsv(write('c.csv', 'time,bid,ask\n'), { symbol: 'EUR_USD' }), /no data rows/);
    assert.throws(
      () => ReplayFeed.fromCsv(join(dir, 'missing.csv'), { symbol: 'EUR_USD' }),
      /the replay data .*missing\.csv cannot be read: it does not exist/,
    );
    // A named pipe or a folder is refused at once (a plain read of a pipe waits forever for a writer).
    const fifo = join(dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    assert.throws(
      () => ReplayFeed.fromCsv(fifo, { symbol: 'EUR_USD' }),
      /pipe\.csv is not a regular file \(a named pipe\)/,
    );
    await assert.rejects(
      ReplayFeed.load(join(dir, 'pipe.parquet'), { symbol: 'EUR_USD' }),
      /cannot be read: it does not exist/,
    );
  });

  it('quote(): the last record at or before the time, independent of call order; collapses equal times', () => {
    const times = [T0, T0 + 1000, T0 + 1000, T0 + 5000];
    const feed = ReplayFeed.fromColumns({ time: times, bid: [1, 2, 3, 4], ask: [1.5, 2.5, 3.5, 4.5] }, 'mem', {
      symbol: 'AAPL',
    });
    assert.equal(feed.length, 3);
    assert.equal(feed.duplicatesCollapsed, 1);
    const probes = [T0 + 4999, T0, T0 + 1_000_000, T0 + 1000, T0 + 999, T0 + 5000];
    const expected = [3, 1, 4, 3, 1, 4];
    const forward = probes.map((t) => feed.quote('AAPL', t).bid);
    const backward = [...probes].reverse().map((t) => feed.quote('AAPL', t).bid);
    assert.deepEqual(forward, expected);
    assert.deepEqual(backward, [...expected].reverse());
    assert.equal(feed.indexAt(T0 - 1), -1);
    assert.throws(() => feed.quote('AAPL', T0 - 1), /starts at/);
    assert.throws(() => feed.quote('MSFT', T0), /records AAPL only/);
    const withFallback = ReplayFeed.fromColumns({ time: times, bid: [1, 2, 3, 4], ask: [1.5, 2.5, 3.5, 4.5] }, 'mem', {
      symbol: 'AAPL',
      fallback: new SyntheticFeed(3),
    });
    assert.deepEqual(withFallback.quote('MSFT', T0), new SyntheticFeed(3).quote('MSFT', T0));
  });

  it('round-trips a Parquet file written with hyparquet-writer (ISO strings, epoch ms, TIMESTAMP)', async () => {
    const { parquetWriteFile } = await import('hyparquet-writer');
    const n = 500;
    const ms = Array.from({ length: n }, (_, i) => T0 + i * 60_000);
    const close = ms.map((_, i) => Number((1.085 + 0.0001 * Math.sin(i / 10)).toFixed(5)));
    const candles = {
      open: close.map((c, i) => (i === 0 ? c : (close[i - 1] as number))),
      close,
    };
    const high = close.map((c, i) => Math.max(c, candles.open[i] as number) + 0.00002);
    const low = close.map((c, i) => Math.min(c, candles.open[i] as number) - 0.00002);
    const volume = ms.map((_, i) => i % 97);
    const base = [
      { name: 'open', data: candles.open, type: 'DOUBLE' as const },
      { name: 'high', data: high, type: 'DOUBLE' as const },
      { name: 'low', data: low, type: 'DOUBLE' as const },
      { name: 'close', data: close, type: 'DOUBLE' as const },
      { name: 'volume', data: volume, type: 'INT32' as const },
    ];
    const variants = [
      {
        name: 'iso.parquet',
        time: { name: 'time', data: ms.map((t) => new Date(t).toISOString()), type: 'STRING' as const },
      },
      { name: 'ms.parquet', time: { name: 'time', data: ms.map((t) => BigInt(t)), type: 'INT64' as const } },
      { name: 'ts.parquet', time: { name: 'timestamp', data: ms.map((t) => new Date(t)), type: 'TIMESTAMP' as const } },
    ];
    for (const v of variants) {
      const file = join(dir, v.name);
      parquetWriteFile({ filename: file, columnData: [v.time, ...base] });
      const feed = await ReplayFeed.load(file, { symbol: 'EUR_USD' });
      assert.equal(feed.kind, 'candles', v.name);
      assert.deepEqual([...feed.times], ms, v.name);
      assert.deepEqual([...(feed.candles?.close ?? [])], close, v.name);
      assert.deepEqual([...(feed.candles?.volume ?? [])], volume, v.name);
      assert.deepEqual(
        feed.quote('EUR_USD', ms[250] as number),
        ReplayFeed.fromColumns({ time: ms, open: candles.open, high, low, close, volume }, 'mem', {
          symbol: 'EUR_USD',
        }).quote('EUR_USD', ms[250] as number),
      );
    }
    // A bad value in Parquet names the row and column too.
    const bad = join(dir, 'bad.parquet');
    parquetWriteFile({
      filename: bad,
      columnData: [
        { name: 'time', data: [T0, T0 + 1, T0 + 2].map((t) => BigInt(t)), type: 'INT64' },
        { name: 'bid', data: [1.1, -1, 1.1], type: 'DOUBLE' },
        { name: 'ask', data: [1.2, 1.2, 1.2], type: 'DOUBLE' },
      ],
    });
    await assert.rejects(ReplayFeed.load(bad, { symbol: 'EUR_USD' }), (e: unknown) => {
      assert.ok(e instanceof ReplayDataError);
      assert.equal(e.message, `${bad}: row 2, column 'bid': -1 must be greater than 0`);
      return true;
    });
  });

  it('loads the bundled sample: 2,000 one-minute EUR_USD candles', async () => {
    const feed = await ReplayFeed.load(join(__dirname, '../../../../examples/data/eurusd_m1_sample.csv'), {
      symbol: 'EUR_USD',
    });
    assert.equal(feed.length, 2000);
    assert.equal(feed.kind, 'candles');
    assert.equal(feed.lastTime - feed.firstTime, 1999 * 60_000);
  });
});
