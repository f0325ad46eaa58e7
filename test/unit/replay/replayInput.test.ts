/** Hostile replay data files: CSV dialects, header variants, impossible times, and a file too big to split whole. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseTime, ReplayDataError, ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { shortestFloat32 } from '../../../src/brokers/paper/replayTables';

const T0 = Date.UTC(2024, 0, 2, 10, 0, 0);

describe('replay data files from the wild', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const load = (text: string): ReplayFeed => ReplayFeed.fromCsv(write('data.csv', text), { symbol: 'EUR_USD' });
  const refused = (text: string, column: string | undefined, message: RegExp): void => {
    assert.throws(
      () => load(text),
      (e: unknown) => {
        assert.ok(e instanceof ReplayDataError, String(e));
        assert.equal(e.column, column);
        assert.match(e.message, message);
        assert.ok(e.message.length < 400, `a short message, not ${e.message.length} characters`);
        return true;
      },
    );
  };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replayinput-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a quoted field that holds the separator or a doubled quote (RFC 4180), not a shifted row', () => {
    const feed = load(
      'note,time,bid,ask\n"London, open",2024-01-02T10:00:00Z,1.1,1.1002\n"say ""hi""",2024-01-02T10:00:01Z,"1.1001",1.1003\n',
    );
    assert.equal(feed.length, 2);
    assert.equal(feed.times[0], T0);
    assert.deepEqual([...feed.bid], [1.1, 1.1001]);
    refused(
      'time,bid,ask\n2024-01-02T10:00:00Z,1.1,1.1002\n"2024-01-02T10:00:01Z,1.1,1.1002\n',
      undefined,
      /row 2 \(line 3\): field 1 opens a quote \(\"\) that the line does not close/,
    );
  });

  it("honours Excel's separator hint line (sep=;)", () => {
    const feed = load('sep=;\r\ntime;bid;ask;note\r\n2024-01-02T10:00:00Z;1.1;1.1002;a,b\r\n');
    assert.equal(feed.times[0], T0);
    assert.equal(feed.ask[0], 1.1002);
  });

  it('reads lines ended by CR alone (classic Mac) as by LF or CRLF', () => {
    const feed = load('time,bid,ask\r2024-01-02T10:00:00Z,1.1,1.1002\r\r2024-01-02T10:00:01Z,1.1,1.1002\r');
    assert.equal(feed.length, 2);
    refused('time,bid,ask\r2024-01-02T10:00:00Z,1.1,1.1002\rx,1.1,1.1002\r', 'time', /row 2 \(line 3\)/);
  });

  it('joins a Date and a Time column, and takes Date alone (daily bars), DateTime and MetaTrader <DATE>', () => {
    assert.equal(load('Date,Time,Bid,Ask\n2024-01-02,10:00:00,1.1,1.1002\n').times[0], T0);
    assert.equal(load('<DATE>,<TIME>,<BID>,<ASK>\n2024.01.02,10:00,1.1,1.1002\n').times[0], T0);
    assert.equal(load('DateTime,Bid,Ask\n2024-01-02 10:00:00,1.1,1.1002\n').times[0], T0);
    const daily = load('Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,1.1,1.2,1.0,1.15,1.15,100\n');
    assert.equal(daily.times[0], Date.UTC(2024, 0, 2));
    assert.equal(daily.kind, 'candles');
  });

  it('refuses a column named twice instead of reading one of them', () => {
    refused('time,bid,ask,bid\n2024-01-02T10:00:00Z,1.1,1.1002,9\n', 'bid', /columns 2 \('bid'\) and 4 \('bid'\)/);
    refused('time,timestamp,bid,ask\n1,2,1.1,1.1002\n', 'time', /columns 1 \('time'\) and 2 \('timestamp'\)/);
  });

  it('refuses an impossible date or time instead of moving it to a real one', () => {
    refused('time,bid,ask\n2024-02-30T10:00:00Z,1.1,1.1002\n', 'time', /has no day 30 \(2024-02 has 29 days\)/);
    refused('time,bid,ask\n2023-02-29,1.1,1.1002\n', 'time', /has no day 29/);
    refused('time,bid,ask\n2024-01-02T24:00:00Z,1.1,1.1002\n', 'time', /not a time of day/);
    refused('time,bid,ask\n2024-01-02T10:00:00Z trailing,1.1,1.1002\n', 'time', /not a valid ISO 8601 time/);
    assert.equal(parseTime('2024-01-02T11:00:00+01'), T0, 'an offset of whole hours');
    assert.equal(parseTime('2024-01-02T10:00:00.123456789Z'), T0 + 123);
    assert.equal(parseTime('2024-01-02 05:00:00-0500'), T0);
  });

  it('refuses Excel date serials, which as seconds since 1970 would replay January 1970', () => {
    refused('time,bid,ask\n45293.4166,1.1,1.1002\n', 'time', /45293.4166 looks like an Excel date serial/);
    // Below a million seconds (the first days of 1970) a first time is a row number, a count or a time of day.
    refused(
      'time,bid,ask\n0,1.1,1.1002\n1,1.1,1.1002\n',
      'time',
      /'0' as seconds since 1970 is 1970-01-01T00:00:00\.000Z, in the first days of 1970: is the column a row number/,
    );
    assert.equal(load('time,bid,ask\n1000000,1.1,1.1002\n').times[0], 1e9, 'a million seconds and up still read');
  });

  it("refuses rows of another instrument than the replay's, naming the symbol to use", () => {
    const feed = load(
      'time,symbol,bid,ask\n1704189600,EUR/USD,1.1,1.1002\n1704189601,eurusd,1.1,1.1002\n1704189602,,1.1,1.1\n',
    );
    assert.equal(feed.length, 3);
    refused(
      'time,ticker,bid,ask\n1704189600,EUR_USD,1.1,1.1002\n1704189601,GBP_USD,1.27,1.2702\n',
      'symbol',
      /row 2 \(line 3\), column 'symbol': the row is for "GBP_USD", but this replay is for EUR_USD: .*--symbol GBP_USD/,
    );
  });

  it('reads FLOAT (32-bit) Parquet prices as the decimals written, not their float error (1.100000023841858)', async () => {
    const { parquetWriteFile } = await import('hyparquet-writer');
    const file = join(dir, 'float32.parquet');
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'time', data: [BigInt(T0), BigInt(T0 + 1000)], type: 'INT64' },
        { name: 'bid', data: [1.1, 1.23456], type: 'FLOAT' },
        { name: 'ask', data: [1.1002, 1.23466], type: 'FLOAT' },
      ],
    });
    const feed = await ReplayFeed.load(file, { symbol: 'EUR_USD' });
    assert.deepEqual([...feed.bid], [1.1, 1.23456]);
    assert.deepEqual([...feed.ask], [1.1002, 1.23466]);
    assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
    assert.equal(shortestFloat32(Math.fround(16777217)), 16777216);
  });

  it('names binary junk and a Parquet file named .csv for what they are', () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    const file = join(dir, 'junk.csv');
    writeFileSync(file, junk);
    assert.throws(
      () => ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' }),
      /is not a text file \(its first line holds binary data\)/,
    );
    writeFileSync(file, Buffer.concat([Buffer.from('PAR1'), junk]));
    assert.throws(
      () => ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' }),
      /is a Parquet file, not CSV: give it the extension \.parquet/,
    );
    writeFileSync(file, Buffer.from('time,bid,ask\n', 'utf16le'));
    assert.throws(() => ReplayFeed.fromCsv(file, { symbol: 'EUR_USD' }), /looks UTF-16 encoded/);
  });

  it('names a header without a time column in a short message, however long its one line is', () => {
    refused(`${'x'.repeat(1_000_000)},${'y,'.repeat(100_000)}\n`, 'time', /has no 'time' column .*\(100002 columns\)/);
  });

  it('reads a million-row CSV in a heap far smaller than its rows split into arrays', async function () {
    this.timeout(120_000);
    const file = join(dir, 'big.csv');
    const out = createWriteStream(file);
    out.write('time,bid,ask\n');
    const chunk: string[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      chunk.push(
        `${T0 + i * 1000},1.10${String(i % 1000).padStart(3, '0')},1.11${String(i % 1000).padStart(3, '0')}\n`,
      );
      if (chunk.length === 10_000) {
        if (!out.write(chunk.join(''))) await once(out, 'drain');
        chunk.length = 0;
      }
    }
    out.end();
    await once(out, 'finish');
    const module = join(__dirname, '../../../src/brokers/paper/replayFeed.js');
    const script = `const { ReplayFeed } = require(${JSON.stringify(module)});
      const feed = ReplayFeed.fromCsv(${JSON.stringify(file)}, { symbol: 'EUR_USD' });
      process.stdout.write(String(feed.length));`;
    // Split whole (an array of fields per row) this file needed over 500 MB of heap and died out of memory.
    const printed = execFileSync(process.execPath, ['--max-old-space-size=150', '-e', script], { encoding: 'utf8' });
    assert.equal(printed, '1000000');
  });
});
