/**
 * A flag given twice with two values: which one was meant is not guessed (the last used to win silently). A file or
 * folder flag given nothing (`--state-dir "$DIR"` with DIR unset) is refused: it was the working folder.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags, parseParams } from '../../../src/cli/args';
import { main } from '../../../src/cli/main';

async function run(argv: string[]): Promise<{ code: number; printed: string }> {
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  let printed = '';
  process.stderr.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
  process.stdout.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
  try {
    return { code: await main(argv), printed };
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
}

describe('CLI flags given twice or given nothing', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-repeated-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a flag given twice with two values, naming both; the same value twice and --param k=v pairs are fine', () => {
    const options = {
      data: { type: 'string' },
      json: { type: 'boolean' },
      param: { type: 'string', multiple: true },
    } as const;
    assert.throws(
      () => parseFlags({ args: ['--data', 'a.csv', '--data=b.csv'], options }),
      (e: unknown) =>
        (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true &&
        /--data is given twice \('a\.csv', then 'b\.csv'\); give it once/.test((e as Error).message),
    );
    const { values } = parseFlags({
      args: ['--data', 'a.csv', '--data', 'a.csv', '--json', '--json', '--param', 'a=1', '--param', 'a=2'],
      options,
    });
    assert.equal(values.data, 'a.csv');
    assert.deepEqual(values.param, ['a=1', 'a=2']);
  });

  it('--param k=1 --param k=2 is refused naming both values; the same pair twice is taken', () => {
    const fail = (message: string): Error => new Error(message);
    assert.throws(
      () => parseParams(['size=1', 'other=x', 'size=100'], fail),
      /--param size is given twice \('1', then '100'\); give it once/,
    );
    assert.deepEqual(parseParams(['size=1', 'size=1'], fail), { size: 1 });
  });

  it('halt --reason a --reason b and replay --data a --data b are usage errors (exit 2): nothing runs', async () => {
    const halt = await run(['halt', '--state-dir', dir, '--reason', 'drill', '--reason', 'real']);
    assert.equal(halt.code, 2, halt.printed);
    assert.match(halt.printed, /--reason is given twice \('drill', then 'real'\)/);
    const replay = await run(['replay', 'x.py', '--data', 'a.csv', '--data', 'b.csv', '--state-dir', dir, '--json']);
    assert.equal(replay.code, 2, replay.printed);
    assert.match(replay.printed, /--data is given twice/);
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    const before = process.cwd();
    process.chdir(cwd);
    let empty;
    try {
      empty = await run(['halt', `--state-dir=`, '--reason', 'drill']);
    } finally {
      process.chdir(before);
    }
    assert.equal(empty.code, 2, empty.printed);
    assert.match(empty.printed, /--state-dir is empty: give it a folder/);
    assert.deepEqual(readdirSync(cwd), [], 'no state folder was halted in the working folder');
    const blank = await run(['replay', 'x.py', '--data', 'a.csv', '--out', ' ', '--state-dir', dir]);
    assert.equal(blank.code, 2, blank.printed);
    assert.match(blank.printed, /--out is empty/);
    const state = await run(['status', '--state-dir', dir, '--state-dir', join(dir, 'other')]);
    assert.equal(state.code, 2, state.printed);
    assert.match(state.printed, /--state-dir is given twice/);
  });
});

describe('replay data errors on a terminal', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replayescape-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a cell holding a terminal escape is shown escaped, never sent to the terminal as is', async () => {
    const data = join(dir, 'data.csv');
    writeFileSync(data, 'time,bid,ask\n2024-01-02T10:00:00Z,1.1,1.1002\n\u001b]0;owned\u0007,1.1,1.1002\n');
    const component = join(__dirname, '../../../../examples/workspace/core/orders/execution_algos/market_order.py');
    const { code, printed } = await run(['replay', component, '--data', data, '--state-dir', join(dir, 'state')]);
    assert.equal(code, 1, printed);
    assert.match(printed, /row 2 \(line 3\), column 'time': '\\x1b\]0;owned\\x07' is not an ISO 8601 time/);
    assert.doesNotMatch(printed, /[\u001b\u0007]/, 'no raw escape or bell reached the terminal');
  });
});
