/**
 * Replay data whose shape could replay wrong without a word: rows with more fields than the header, compact
 * dates (20240102) that read as seconds since 1970, short column names (o, h, l, c), and Parquet files that
 * keep the date and the time of day apart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTime, ReplayDataError, ReplayFeed } from '../../../src/brokers/paper/replayFeed';

const T0 = Date.UTC(2024, 0, 2, 10, 0, 0);
const DAY0 = Date.UTC(2024, 0, 2);

describe('replay data of a shape that could replay wrong', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replayshapes-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const load = (text: string): ReplayFeed => {
    const file = join(dir, 'data.csv');
    writeFileSync(file, text);
    return ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' });
  };
  const refused = (text: string, message: RegExp): ReplayDataError => {
    let caught: unknown;
    assert.throws(
      () => load(text),
      (e: unknown) => {
        caught = e;
        assert.ok(e instanceof ReplayDataError, String(e));
        assert.match(e.message, /data\.csv/);
        assert.match(e.message, message);
        return true;
      },
    );
    return caught as ReplayDataError;
  };

  it('refuses a row with more fields than the header (decimal commas), naming its row and line', () => {
    // `1,0850` read as two fields put 1 in bid and 850 in ask: a valid-looking quote, 850 dollars wide.
    const e = refused(
      'time,bid,ask\n2024-01-02T10:00:00Z,1.0850,1.0852\n2024-01-02T10:00:01Z,1,0850,1,0852\n',
      /row 2 \(line 3\): it has 5 fields but the header has 3.*decimal comma/,
    );
    assert.equal(e.row, 2);
    // Empty fields past the header's (a trailing separator, as spreadsheets write) say nothing and are taken.
    const feed = load('time,bid,ask\n2024-01-02T10:00:00Z,1.0850,1.0852,\n2024-01-02T10:00:01Z,1.0851,1.0853,,\n');
    assert.deepEqual([...feed.bid], [1.085, 1.0851]);
  });

  it('reads a compact date (20240102) and an ISO basic time as dates, not as seconds since 1970', () => {
    const daily = load('Date,Open,High,Low,Close\n20240102,1.1,1.2,1.0,1.15\n20240103,1.1,1.2,1.0,1.15\n');
    assert.deepEqual([...daily.times], [DAY0, DAY0 + 86_400_000]);
    assert.equal(load('Date,Time,Bid,Ask\n20240102,100000,1.1,1.1002\n').times[0], T0);
    assert.equal(load('Date,Time,Bid,Ask\n20240102,10:00:00,1.1,1.1002\n').times[0], T0);
    assert.equal(parseTime('20240102T100000Z'), T0);
    assert.equal(parseTime('20240102T100000+0100'), T0 - 3_600_000);
    assert.equal(parseTime('20240102100000'), T0, 'fourteen digits: yyyymmddhhmmss (as ms it would be year 2611)');
    assert.equal(parseTime(20240102), DAY0, 'a Parquet integer yyyymmdd');
    // Not a date (month 13, day 00): still seconds since 1970, as before.
    assert.equal(parseTime('20241301'), 20241301 * 1000);
    assert.equal(parseTime(20217600), 20217600 * 1000);
    assert.equal(parseTime('1704189600'), T0, 'epoch seconds are unchanged');
    assert.equal(parseTime('1704189600000'), T0, 'epoch milliseconds are unchanged');
  });

  it('reads o, h, l, c, v as open, high, low, close, volume, and names the columns a file lacks', () => {
    const feed = load('timestamp,o,h,l,c,v\n1704189600,1.1,1.2,1.0,1.15,5\n');
    assert.equal(feed.kind, 'candles');
    assert.equal(feed.times[0], T0);
    assert.equal(feed.candles?.volume[0], 5);
    refused('time,bid\n2024-01-02T10:00:00Z,1.0850\n', /it has: time, bid\b/);
    refused('time,price\n2024-01-02T10:00:00Z,1.0850\n', /it has: time, price\b/);
  });

  it('reads recorded sizes under their usual names (bidsize, bid size), not the touch size in their place', () => {
    const feed = load('time,bid,ask,BidSize,Ask Size\n2024-01-02T10:00:00Z,1.1,1.1002,7,5\n');
    assert.equal(feed.bidSize[0], 7);
    assert.equal(feed.askSize[0], 5);
  });

  it('says a cell that is no number in a line of the message, however long the cell', () => {
    const e = refused(
      `time,bid,ask\n2024-01-02T10:00:00Z,${'x'.repeat(1_000_000)},1.1\n`,
      /column 'bid': "x+…" is not a number/,
    );
    assert.ok(e.message.length < 300, `a short message, not ${e.message.length} characters`);
  });

  it('an epoch number past any date out of order is refused at its row, not a RangeError naming no file', () => {
    refused(
      'time,bid,ask\n1704189600,1.1,1.2\n-1e25,1.1,1.2\n',
      /row 2 \(line 3\), column 'time': '-1e25' is negative \(as nanoseconds since 1970: -10000000000000000000 ms since 1970\)/,
    );
  });

  it('says a file that runs newest first is newest first', () => {
    refused(
      'time,bid,ask\n2024-01-03,1.1,1.2\n2024-01-02,1.1,1.2\n2024-01-01,1.1,1.2\n',
      /row 2 \(line 3\), column 'time': .*rows must be in time order \(if the file runs newest first, sort it oldest first\)/,
    );
  });

  describe('Parquet', () => {
    type Column = { name: string; data: unknown[] };
    const writeParquet = async (columns: Column[], schema: Array<Record<string, unknown>>): Promise<string> => {
      const { parquetWriteFile } = await import('hyparquet-writer');
      const filename = join(dir, 'data.parquet');
      parquetWriteFile({
        filename,
        columnData: columns,
        schema: [{ name: 'root', num_children: schema.length }, ...schema] as never,
      });
      return filename;
    };
    const prices = [
      { name: 'bid', data: [1.1, 1.1001] },
      { name: 'ask', data: [1.1002, 1.1003] },
    ];
    const priceSchema = [
      { name: 'bid', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'ask', type: 'DOUBLE', repetition_type: 'REQUIRED' },
    ];

    it('joins a DATE column and a TIME column (a time of day), as CSV joins Date and Time', async () => {
      const file = await writeParquet(
        [{ name: 'date', data: [19724, 19724] }, { name: 'time', data: [36_000_000, 36_060_000] }, ...prices],
        [
          { name: 'date', type: 'INT32', converted_type: 'DATE', repetition_type: 'REQUIRED' },
          { name: 'time', type: 'INT32', converted_type: 'TIME_MILLIS', repetition_type: 'REQUIRED' },
          ...priceSchema,
        ],
      );
      const feed = await ReplayFeed.load(file, { symbol: 'EUR_USD' });
      assert.deepEqual([...feed.times], [T0, T0 + 60_000]);
    });

    it('joins a date column and a text time column', async () => {
      const file = await writeParquet(
        [
          { name: 'Date', data: ['2024-01-02', '2024-01-02'] },
          { name: 'Time', data: ['10:00:00', '10:01:00'] },
          ...prices,
        ],
        [
          { name: 'Date', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
          { name: 'Time', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
          ...priceSchema,
        ],
      );
      const feed = await ReplayFeed.load(file, { symbol: 'EUR_USD' });
      assert.deepEqual([...feed.times], [T0, T0 + 60_000]);
    });

    it('takes a TIMESTAMP beside a DATE column as the time it is (and so does CSV: Date,Timestamp)', async () => {
      const file = await writeParquet(
        [
          { name: 'date', data: [19724, 19724] },
          { name: 'timestamp', data: [BigInt(T0), BigInt(T0 + 60_000)] },
          ...prices,
        ],
        [
          { name: 'date', type: 'INT32', converted_type: 'DATE', repetition_type: 'REQUIRED' },
          { name: 'timestamp', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' },
          ...priceSchema,
        ],
      );
      assert.deepEqual([...(await ReplayFeed.load(file, { symbol: 'EUR_USD' })).times], [T0, T0 + 60_000]);
      const epoch = await writeParquet(
        [
          { name: 'date', data: ['2024-01-02', '2024-01-02'] },
          { name: 'time', data: [BigInt(T0), BigInt(T0 + 60_000)] },
          ...prices,
        ],
        [
          { name: 'date', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
          { name: 'time', type: 'INT64', repetition_type: 'REQUIRED' },
          ...priceSchema,
        ],
      );
      assert.deepEqual([...(await ReplayFeed.load(epoch, { symbol: 'EUR_USD' })).times], [T0, T0 + 60_000]);
      assert.equal(load('Date,Timestamp,Bid,Ask\n2024-01-02,2024-01-02T10:00:00Z,1.1,1.1002\n').times[0], T0);
    });

    it('refuses a damaged file whose page claims billions of values within its deadline, instead of hanging', async function () {
      this.timeout(30_000);
      const { parquetWriteFile } = await import('hyparquet-writer');
      const filename = join(dir, 'damaged.parquet');
      const n = 200;
      parquetWriteFile({
        filename,
        columnData: [
          { name: 'time', data: Array.from({ length: n }, (_, i) => BigInt(T0 + i * 1000)), type: 'INT64' },
          { name: 'bid', data: Array.from({ length: n }, (_, i) => 1.1 + (i % 7) / 10000), type: 'DOUBLE' },
          { name: 'ask', data: Array.from({ length: n }, (_, i) => 1.1002 + (i % 7) / 10000), type: 'DOUBLE' },
          { name: 'sym', data: Array.from({ length: n }, () => 'EUR_USD'), type: 'STRING' },
        ],
      });
      // Two bits flipped in the ask column's page: hyparquet then read on for hours in the caller's own thread.
      const bytes = readFileSync(filename);
      bytes[881] = (bytes[881] as number) ^ 0x20;
      bytes[1254] = (bytes[1254] as number) ^ 0x04;
      writeFileSync(filename, bytes);
      const started = Date.now();
      await assert.rejects(
        ReplayFeed.load(filename, { symbol: 'EUR_USD', parquetTimeoutMs: 3_000 }),
        (e: unknown) => e instanceof ReplayDataError && e.message.startsWith(filename) && /damaged/.test(e.message),
      );
      assert.ok(Date.now() - started < 15_000, `refused in ${Date.now() - started} ms`);
      // The same file undamaged still reads (in its worker), all of it.
      parquetWriteFile({
        filename,
        columnData: [
          { name: 'time', data: Array.from({ length: n }, (_, i) => BigInt(T0 + i * 1000)), type: 'INT64' },
          { name: 'bid', data: Array.from({ length: n }, () => 1.1), type: 'DOUBLE' },
          { name: 'ask', data: Array.from({ length: n }, () => 1.1002), type: 'DOUBLE' },
        ],
      });
      const feed = await ReplayFeed.load(filename, { symbol: 'EUR_USD' });
      assert.equal(feed.length, n);
      assert.equal(feed.times[n - 1], T0 + (n - 1) * 1000);
    });

    it("refuses a footer whose row count is not its row groups' (damage), naming the file", async () => {
      const { parquetWriteFile } = await import('hyparquet-writer');
      const filename = join(dir, 'counted.parquet');
      const n = 300;
      parquetWriteFile({
        filename,
        columnData: [
          { name: 'time', data: Array.from({ length: n }, (_, i) => BigInt(T0 + i * 1000)), type: 'INT64' },
          { name: 'bid', data: Array.from({ length: n }, () => 1.1), type: 'DOUBLE' },
          { name: 'ask', data: Array.from({ length: n }, () => 1.1002), type: 'DOUBLE' },
        ],
      });
      const bytes = readFileSync(filename);
      // The footer's num_rows (thrift compact: field 3, i64, zigzag varint 600 = d8 04) made 301 (da 04).
      const footer = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
      const at = bytes.indexOf(Buffer.from([0x16, 0xd8, 0x04]), footer);
      assert.ok(at > 0, 'the footer holds num_rows 300');
      bytes[at + 1] = 0xda;
      writeFileSync(filename, bytes);
      await assert.rejects(
        ReplayFeed.load(filename, { symbol: 'EUR_USD' }),
        (e: unknown) =>
          e instanceof ReplayDataError &&
          e.message === `${filename}: its metadata says 301 rows but its row groups hold 300: the file is damaged`,
      );
    });

    it('refuses a TIME column (a time of day) with no date, instead of replaying 1970', async () => {
      const file = await writeParquet(
        [{ name: 'time', data: [36_000_000n * 1000n, 36_060_000n * 1000n] }, ...prices],
        [{ name: 'time', type: 'INT64', converted_type: 'TIME_MICROS', repetition_type: 'REQUIRED' }, ...priceSchema],
      );
      await assert.rejects(
        ReplayFeed.load(file, { symbol: 'EUR_USD' }),
        (e: unknown) =>
          e instanceof ReplayDataError &&
          e.message.includes(file) &&
          /'time' holds a time of day \(Parquet TIME\).*no date column/.test(e.message),
      );
    });
  });
});
