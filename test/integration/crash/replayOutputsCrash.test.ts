/**
 * A replay into an --out folder an earlier replay filled (report.json, fills.csv, fills.parquet), killed while it put
 * its own files in place: after the fills are renamed and before the report is (replace-before-rename:1), or between
 * the two fills files (replay-fills-between). The folder held the earlier run's report.json beside this run's fills
 * (its rows, P&L and fill count describing other fills), or this run's fills.csv beside the earlier fills.parquet.
 * Whatever the kill leaves, every file there is one run's: a report's rows are the fills files' rows, and the two
 * fills files hold the same fills. The next replay writes all three whole.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cli, MARKET } from './crashKit';

const SAMPLE = resolve(__dirname, '../../../../examples/data/eurusd_m1_sample.csv');

describe('crash suite: a replay killed while it puts its report and fills files in an --out folder', function () {
  this.timeout(300_000);
  let root: string;
  let component: string;
  const data: Record<'long' | 'short', string> = { long: '', short: '' };

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-replay-outputs-'));
    component = join(root, 'market.py');
    writeFileSync(component, MARKET);
    const lines = readFileSync(SAMPLE, 'utf8').split('\n');
    for (const [name, rows] of [
      ['long', 30],
      ['short', 10],
    ] as const) {
      data[name] = join(root, `${name}.csv`);
      writeFileSync(data[name], `${lines.slice(0, rows + 1).join('\n')}\n`);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Row counts of what the folder holds: undefined for a file that is not there. */
  async function outputs(out: string): Promise<{ report?: number; csv?: number; parquet?: number }> {
    const found: { report?: number; csv?: number; parquet?: number } = {};
    const report = join(out, 'report.json');
    if (existsSync(report))
      found.report = (JSON.parse(readFileSync(report, 'utf8')) as { fillsFiles: { rows: number } }).fillsFiles.rows;
    const csv = join(out, 'fills.csv');
    if (existsSync(csv)) found.csv = readFileSync(csv, 'utf8').trim().split('\n').length - 1;
    const parquet = join(out, 'fills.parquet');
    if (existsSync(parquet)) {
      const { parquetMetadata } = await import('hyparquet');
      const bytes = readFileSync(parquet);
      found.parquet = Number(
        parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).num_rows,
      );
    }
    return found;
  }

  for (const point of ['replace-before-rename:1', 'replay-fills-between:1'])
    it(`killed at ${point}: every file left in --out is the same run's; the next replay writes all three`, async () => {
      const out = join(root, `out-${point.replace(/\W+/g, '-')}`);
      const args = (rows: 'long' | 'short'): string[] => ['replay', component, '--data', data[rows], '--out', out];
      const first = await cli(args('long'));
      assert.equal(first.code, 0, first.stderr + first.stdout.slice(0, 400));
      const earlier = await outputs(out);
      assert.ok(
        earlier.report !== undefined && earlier.report > 10,
        `the earlier run filled: ${JSON.stringify(earlier)}`,
      );
      assert.deepEqual(earlier, { report: earlier.report, csv: earlier.report, parquet: earlier.report });

      const killed = await cli(args('short'), { SPTRADER_CRASH_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `killed at ${point}: ${killed.stderr}`);
      const left = await outputs(out);
      const counts = new Set(Object.values(left));
      assert.ok(
        counts.size <= 1,
        `one run's files, not two runs' mixed: ${JSON.stringify(left)} (earlier run: ${earlier.report} fills)`,
      );
      assert.ok(
        !counts.has(earlier.report),
        `none of the earlier run's files is left beside this run's: ${JSON.stringify(left)}`,
      );

      const again = await cli(args('short'));
      assert.equal(again.code, 0, again.stderr + again.stdout.slice(0, 400));
      const now = await outputs(out);
      assert.ok(now.report !== undefined && now.report < (earlier.report ?? 0));
      assert.deepEqual(now, { report: now.report, csv: now.report, parquet: now.report });
    });
});
