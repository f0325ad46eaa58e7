/**
 * Hostile and damaged replay data, each built on disk: a line cut short, numbers past a double, times of the wrong
 * unit or sign, bytes that are not UTF-8, empty files, a Parquet file cut short or damaged in one column. Each is
 * read right or refused naming the file, the row (and line), the column, the value and what was expected.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayDataError, ReplayFeed } from '../../../src/brokers/paper/replayFeed';

const T0 = Date.UTC(2024, 0, 2, 10, 0, 0);
const CANDLES = 'time,open,high,low,close,volume\n';

describe('replay data that is damaged or hostile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replaydamage-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string | Buffer): string => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };
  const load = (content: string | Buffer): ReplayFeed =>
    ReplayFeed.fromCsv(write('data.csv', content), { symbol: 'EUR_USD' });
  /** The exact message after the file's name, and the error's row and column. */
  const refusedAs = (content: string | Buffer, message: string, row?: number, column?: string): void => {
    const file = join(dir, 'data.csv');
    assert.throws(
      () => load(content),
      (e: unknown) => {
        assert.ok(e instanceof ReplayDataError, String(e));
        assert.equal(e.message, `${file}${message}`);
        assert.equal(e.file, file);
        assert.equal(e.row, row);
        assert.equal(e.column, column);
        return true;
      },
    );
  };

  it('refuses a row with fewer fields than the header (a line cut short), naming the columns it lacks', () => {
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1.1,1.2,1.0,1.1,5\n2024-01-02T10:01:00Z,1.1,1.2\n`,
      ": row 2 (line 3): it has 3 fields but the header has 6: 'low', 'close', 'volume' are missing (a line cut short? every row has a field for each header column, empty ones too: a,,c)",
      2,
      'low',
    );
    // Only the optional volume lacking: read, its volume would have been 0.
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1.1,1.2,1.0,1.1\n`,
      ": row 1 (line 2): it has 5 fields but the header has 6: 'volume' is missing (a line cut short? every row has a field for each header column, empty ones too: a,,c)",
      1,
      'volume',
    );
    // A file cut off while it was written, its end binary zeros (a crash after the size grew).
    refusedAs(
      Buffer.concat([Buffer.from('time,bid,ask\n2024-01-02T10:00:00Z,1.1,1.1002\n'), Buffer.alloc(4096)]),
      ": row 2 (line 3), column 'time': it holds NUL bytes (binary zeros), as a file cut off while it was written or damaged on disk ends with; replay data is text",
      2,
      'time',
    );
    // A header ended by a separator (spreadsheets) asks nothing of the rows; an empty field is a field.
    const feed = load('time,bid,ask,bid_size,\n2024-01-02T10:00:00Z,1.1,1.1002,\n2024-01-02T10:00:01Z,1.1,1.1002,7\n');
    assert.deepEqual([...feed.bidSize], [1_000_000, 7]);
  });

  it('refuses numbers past a double (1e309), NaN and Infinity, and empty prices, saying what was expected', () => {
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1e309,1.2,1.0,1.1,5\n`,
      `: row 1 (line 2), column 'open': "1e309" is too large a number (past 1.8e308, the largest a double holds; expected a price greater than 0)`,
      1,
      'open',
    );
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1.1,1.2,1.0,1.1,1e-400\n`,
      `: row 1 (line 2), column 'volume': "1e-400" is too small a number to hold (it reads as 0; expected a number 0 or more)`,
      1,
      'volume',
    );
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1.1,1.2,1.0,NaN,5\n`,
      `: row 1 (line 2), column 'close': "NaN" is not a number (expected a price greater than 0)`,
      1,
      'close',
    );
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1.1,1.2,,1.1,5\n`,
      `: row 1 (line 2), column 'low': is empty (expected a price greater than 0)`,
      1,
      'low',
    );
    refusedAs(
      `${CANDLES}1e309,1.1,1.2,1.0,1.1,5\n`,
      `: row 1 (line 2), column 'time': '1e309' is too large a number to be a time (seconds or milliseconds since 1970 are expected)`,
      1,
      'time',
    );
    // An empty or blank volume is no volume (0), as documented; a blank price is not.
    assert.deepEqual([...(load(`${CANDLES}2024-01-02T10:00:00Z,1.1,1.2,1.0,1.1,  \n`).candles?.volume ?? [])], [0]);
  });

  it('names the price a high or low fails against', () => {
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1.1,1.0,1.2,1.1,5\n`,
      `: row 1 (line 2), column 'high': 1 is below the bar's low 1.2 (a high is at least the open, close and low)`,
      1,
      'high',
    );
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,1.1,1.3,1.15,1.2,5\n`,
      `: row 1 (line 2), column 'low': 1.15 is above the bar's open 1.1 (a low is at most the open and close)`,
      1,
      'low',
    );
    refusedAs(
      `${CANDLES}2024-01-02T10:00:00Z,-1.1,1.3,1.0,1.2,5\n`,
      `: row 1 (line 2), column 'open': -1.1 must be greater than 0`,
      1,
      'open',
    );
  });

  it('refuses negative epoch times, times outside 1900–2199 and a first time in the first days of 1970', () => {
    refusedAs(
      'time,bid,ask\n-1704189600,1.1,1.1002\n',
      ": row 1 (line 2), column 'time': '-1704189600' is negative (as seconds since 1970: 1915-12-31T14:00:00.000Z); a time since 1970 is 0 or more, a negative one a flipped sign or a missing-value marker (write a time before 1970 as a date)",
      1,
      'time',
    );
    refusedAs(
      'time,bid,ask\n1e30,1.1,1.1002\n',
      ": row 1 (line 2), column 'time': '1e30' as nanoseconds since 1970 is 1e+24 ms since 1970, after 2199; a replay reads times in the years 1900–2199 (check the unit of the time column: seconds, milliseconds, microseconds or nanoseconds since 1970, or ISO 8601)",
      1,
      'time',
    );
    refusedAs(
      'time,bid,ask\n32503680000,1.1,1.1002\n',
      ": row 1 (line 2), column 'time': '32503680000' as seconds since 1970 is 3000-01-01T00:00:00.000Z, after 2199; a replay reads times in the years 1900–2199 (check the unit of the time column: seconds, milliseconds, microseconds or nanoseconds since 1970, or ISO 8601)",
      1,
      'time',
    );
    refusedAs(
      'time,bid,ask\n0000-01-01T00:00:00Z,1.1,1.1002\n',
      ": row 1 (line 2), column 'time': '0000-01-01T00:00:00Z' is 0000-01-01T00:00:00.000Z, before 1900; a replay reads times in the years 1900–2199 (check the unit of the time column: seconds, milliseconds, microseconds or nanoseconds since 1970, or ISO 8601)",
      1,
      'time',
    );
    refusedAs(
      'time,bid,ask\n3600,1.1,1.1002\n7200,1.1,1.1002\n',
      ": row 1 (line 2), column 'time': '3600' as seconds since 1970 is 1970-01-01T01:00:00.000Z, in the first days of 1970: is the column a row number, a count or a time of day? A time is a date and time (2024-01-02T10:00:00Z) or seconds since 1970 (1704189600)",
      1,
      'time',
    );
    // The bounds themselves, any zone, and seconds and milliseconds alike read.
    const feed = load(
      'time,bid,ask\n1900-01-01T00:00:00Z,1.1,1.1002\n1704189600,1.1,1.1002\n1704189601000,1.1,1.1002\n2024-01-02T12:00:02+02:00,1.1,1.1002\n2199-12-31T23:59:59.999,1.1,1.1002\n',
    );
    assert.deepEqual([...feed.times], [Date.UTC(1900, 0, 1), T0, T0 + 1000, T0 + 2000, Date.UTC(2200, 0, 1) - 1]);
  });

  it('refuses a byte that is not UTF-8 where it is (row, line, column, byte), whichever column holds it', () => {
    const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
    // BOM and CRLF line ends before it do not move the line or the row.
    refusedAs(
      Buffer.concat([
        Buffer.from('\ufeff'),
        latin1('time,bid,ask\r\n2024-01-02T10:00:00Z,1.1,1.1002\r\n\r\n2024-01-02T10:00:01Z,1.1\xff,1.1002\r\n'),
      ]),
      `: row 2 (line 4), column 'bid': the byte 0xFF in "1.1\\xFF" is not UTF-8; replay data is UTF-8 text (was the file saved as Latin-1 or Windows-1252? save it as "CSV UTF-8")`,
      2,
      'bid',
    );
    refusedAs(
      latin1('time,bid,ask,note\n2024-01-02T10:00:00Z,1.1,1.1002,"caf\xe9, cr\xe8me"\n'),
      `: row 1 (line 2), column 'note': the byte 0xE9 in "caf\\xE9" is not UTF-8; replay data is UTF-8 text (was the file saved as Latin-1 or Windows-1252? save it as "CSV UTF-8")`,
      1,
      'note',
    );
    refusedAs(
      latin1('time,bid,ask,Schlu\xdf\n2024-01-02T10:00:00Z,1.1,1.1002,1\n'),
      `: the header (line 1), field 4: the byte 0xDF in "Schlu\\xDF" is not UTF-8; replay data is UTF-8 text (was the file saved as Latin-1 or Windows-1252? save it as "CSV UTF-8")`,
    );
    // A file cut in the middle of a character.
    refusedAs(
      Buffer.concat([Buffer.from('time,bid,ask\n2024-01-02T10:00:00Z,1.1,1.1002\n'), Buffer.from([0xe2, 0x82])]),
      `: row 2 (line 3), column 'time': the byte 0xE2 in "\\xE2" is not UTF-8; replay data is UTF-8 text (was the file saved as Latin-1 or Windows-1252? save it as "CSV UTF-8")`,
      2,
      'time',
    );
    // U+FFFD written as UTF-8 is a character like any other.
    assert.equal(load('time,bid,ask,note\n2024-01-02T10:00:00Z,1.1,1.1002,\ufffd\n').length, 1);
  });

  it('refuses an empty file, a header alone and a date column named twice; reads BOM, CRLF and quoted fields', () => {
    refusedAs('', ': the file is empty (a header row is needed)');
    refusedAs('\r\n  \n', ': the file is empty (a header row is needed)');
    refusedAs(CANDLES, ': no data rows');
    refusedAs(
      'date,Date,time,bid,ask\n2024-01-02,2024-01-02,10:00,1.1,1.1002\n',
      ": columns 1 ('date') and 2 ('Date') are both 'date'; keep one (or rename the other)",
      undefined,
      'time',
    );
    const feed = load(
      '\ufeff"time","bid","ask"\r\n"2024-01-02T10:00:00Z","1.1",1.1002\r\n2024-01-02T10:00:00Z," 1.1001 ",1.1003\r\n',
    );
    assert.deepEqual([...feed.times], [T0]);
    assert.deepEqual([...feed.bid], [1.1001], 'the later row of a repeated time is kept');
    assert.equal(feed.duplicatesCollapsed, 1);
  });

  describe('Parquet', () => {
    const writeParquet = async (name: string, columnData: Array<Record<string, unknown>>): Promise<string> => {
      const { parquetWriteFile } = await import('hyparquet-writer');
      const filename = join(dir, name);
      parquetWriteFile({ filename, columnData: columnData as never });
      return filename;
    };
    const times = { name: 'time', data: [BigInt(T0), BigInt(T0 + 60_000)], type: 'INT64' };
    const column = (name: string, data: unknown[], type = 'DOUBLE') => ({ name, data, type });
    const ohlc = [
      column('open', [1.1, 1.1]),
      column('high', [1.2, 1.2]),
      column('low', [1.0, 1.0]),
      column('close', [1.1, 1.1]),
    ];
    const rejects = async (file: string, message: string, column?: string): Promise<void> =>
      assert.rejects(ReplayFeed.load(file, { symbol: 'EUR_USD' }), (e: unknown) => {
        assert.ok(e instanceof ReplayDataError, String(e));
        assert.equal(e.message, `${file}${message}`);
        assert.equal(e.column, column);
        return true;
      });

    it('says a file cut short, one that is no Parquet, and a damaged column by name', async () => {
      const file = await writeParquet('good.parquet', [times, ...ohlc]);
      const bytes = readFileSync(file);
      const cut = write('cut.parquet', bytes.subarray(0, bytes.length - 100));
      await rejects(
        cut,
        ` is cut short (${bytes.length - 100} bytes): a Parquet file ends with PAR1 after its metadata, and this one does not (an unfinished download or copy?); write or copy it again`,
      );
      await rejects(
        write('text.parquet', CANDLES),
        ' is not a Parquet file: it does not start with PAR1, as every Parquet file does (a CSV file is named .csv)',
      );
      await rejects(write('empty.parquet', ''), ' is empty (0 bytes), not a Parquet file');
      // The 'high' column's first page header overwritten: the error names that column.
      const { parquetMetadata } = await import('hyparquet');
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const chunk = parquetMetadata(buffer).row_groups[0]?.columns.find(
        (c) => c.meta_data?.path_in_schema[0] === 'high',
      );
      const meta = chunk?.meta_data;
      assert.ok(meta !== undefined, 'the high column chunk');
      const at = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      const damaged = Buffer.from(bytes);
      damaged.fill(0xff, at, at + 8);
      const file2 = write('damaged.parquet', damaged);
      await assert.rejects(ReplayFeed.load(file2, { symbol: 'EUR_USD' }), (e: unknown) => {
        assert.ok(e instanceof ReplayDataError, String(e));
        assert.match(
          e.message,
          new RegExp(`^${file2}: column 'high' is damaged and cannot be read \\(.+\\); write the file again$`),
        );
        assert.equal(e.column, 'high');
        return true;
      });
    });

    it('names the columns a file lacks, and cells of the wrong type, NaN, Infinity or null by row', async () => {
      await rejects(
        await writeParquet('noclose.parquet', [times, ...ohlc.slice(0, 3)]),
        ": candles need the columns time, open, high, low, close; 'close' is missing; it has: time, open, high, low",
        'close',
      );
      await rejects(
        await writeParquet('noask.parquet', [times, column('bid', [1.1, 1.1])]),
        ": ticks need the columns time, bid, ask; 'ask' is missing; it has: time, bid",
        'ask',
      );
      const withOpen = async (name: string, open: unknown[], type = 'DOUBLE'): Promise<string> =>
        writeParquet(name, [times, column('open', open, type), ...ohlc.slice(1)]);
      await rejects(
        await withOpen('nan.parquet', [1.1, Number.NaN]),
        ": row 2, column 'open': NaN is not a finite number (expected a price greater than 0)",
        'open',
      );
      await rejects(
        await withOpen('inf.parquet', [Number.POSITIVE_INFINITY, 1.1]),
        ": row 1, column 'open': Infinity is not a finite number (expected a price greater than 0)",
        'open',
      );
      await rejects(
        await withOpen('null.parquet', [1.1, null]),
        ": row 2, column 'open': is empty (expected a price greater than 0)",
        'open',
      );
      await rejects(
        await withOpen('text.parquet', ['1.1', 'abc'], 'STRING'),
        `: row 2, column 'open': "abc" is not a number (expected a price greater than 0)`,
        'open',
      );
      await rejects(
        await writeParquet('bool.parquet', [column('time', [true, false], 'BOOLEAN'), ...ohlc]),
        ": row 1, column 'time': is a boolean, not a time",
        'time',
      );
    });

    it("refuses pandas' NaT and negative INT64 times instead of replaying 1677 or 1969", async () => {
      await rejects(
        await writeParquet('nat.parquet', [{ ...times, data: [-(2n ** 63n), BigInt(T0)] }, ...ohlc]),
        ": row 1, column 'time': -9223372036854775808 is the smallest 64-bit integer, which pandas and Arrow write for a missing time (NaT)",
        'time',
      );
      // NaT in a TIMESTAMP(NANOS) column, which reads as a Date in 1677.
      const { parquetWriteFile } = await import('hyparquet-writer');
      const stamped = join(dir, 'stamped.parquet');
      parquetWriteFile({
        filename: stamped,
        columnData: [
          { name: 'time', data: [-(2n ** 63n), BigInt(T0) * 1_000_000n] },
          ...ohlc.map(({ name, data }) => ({ name, data })),
        ] as never,
        schema: [
          { name: 'root', num_children: 5 },
          {
            name: 'time',
            type: 'INT64',
            repetition_type: 'REQUIRED',
            logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' },
          },
          ...['open', 'high', 'low', 'close'].map((name) => ({ name, type: 'DOUBLE', repetition_type: 'REQUIRED' })),
        ] as never,
      });
      await rejects(
        stamped,
        ": row 1, column 'time': is 1677-09-21T00:12:43.146Z, the smallest 64-bit TIMESTAMP, which pandas and Arrow write for a missing time (NaT)",
        'time',
      );
      await rejects(
        await writeParquet('neg.parquet', [{ ...times, data: [BigInt(-T0), BigInt(T0)] }, ...ohlc]),
        ": row 1, column 'time': -1704189600000 is negative (as milliseconds since 1970: 1915-12-31T14:00:00.000Z); a time since 1970 is 0 or more, a negative one a flipped sign or a missing-value marker (write a time before 1970 as a date)",
        'time',
      );
    });
  });
});
