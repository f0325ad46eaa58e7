/** The CLI's argument readers: an empty number, a parameter named like a prototype key. */
import assert from 'node:assert/strict';
import { flagNumber, numberFlag, parseParams, TIMER_SECONDS, typedParams } from '../../../src/cli/args';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { systemClock } from '../../../src/common/clock';
import { DEFAULT_RISK_LIMITS } from '../../../src/execution/risk';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { openTradingSession } from '../../../src/usecases/session';

const fail = (message: string): Error => new Error(message);
describe('CLI arguments', () => {
  it('an empty number flag is a usage error (exit 2), not a zero', async () => {
    const write = process.stderr.write.bind(process.stderr);
    let printed = '';
    process.stderr.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
    try {
      assert.equal(await main(['audit', 'tail', '-n', '']), 2);
      assert.equal(await main(['replay', 'missing.py', '--data', 'a.csv', '--spread-ticks=']), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(printed, /-n must be a whole number, not ''/);
    assert.match(printed, /--spread-ticks must be a whole number ≥ 0, not ''/);
  });

  it('--help after a command prints the usage and runs nothing (exit 0), as `sptrader --help` does', async () => {
    const write = process.stdout.write.bind(process.stdout);
    let printed = '';
    process.stdout.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-help-'));
    try {
      // A state folder that would be made, and a halt that would be written, if the command ran.
      assert.equal(await main(['halt', '--state-dir', join(dir, 'state'), '--help']), 0);
      assert.equal(await main(['test-order', 'missing.py', '-h']), 0);
      assert.equal(await main(['replay', '--help', 'missing.py', '--data', 'a.csv']), 0);
    } finally {
      process.stdout.write = write;
    }
    assert.match(printed, /^Usage: sptrader <command>/);
    assert.equal(printed.split('Usage: sptrader <command>').length - 1, 3);
    assert.throws(() => readFileSync(join(dir, 'state', 'trading-state.json')), /ENOENT/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads an empty number as no number, not as 0', () => {
    assert.ok(Number.isNaN(flagNumber('')));
    assert.ok(Number.isNaN(flagNumber('  ')));
    assert.equal(flagNumber(' 7 '), 7);
  });

  it('keeps a parameter named __proto__ as a parameter', () => {
    const params = parseParams(['__proto__={"polluted": 1}', 'constructor=5'], fail);
    assert.deepEqual(Object.keys(params), ['__proto__', 'constructor']);
    assert.equal((params as { polluted?: unknown }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
    assert.equal(JSON.stringify(params), '{"__proto__":{"polluted":1},"constructor":5}');
    assert.throws(
      () => parseParams(['levels={"a": 1, "a": 2}'], fail),
      /--param levels: line 1: the key "a" appears twice in one object/,
    );
    assert.deepEqual(parseParams(['t={"a": 1', 'n=5'], fail), { t: '{"a": 1', n: 5 }, 'not JSON: text');
    // As a component's __metadata__ arrives (JSON): '__proto__' an own key, declared a float.
    const metadata: unknown = JSON.parse(
      '{"parameters": {"__proto__": {"type": "float", "default": 1}, "k": {"default": 1}}}',
    );
    const typed = typedParams(['__proto__=3', 'k=2'], metadata, 'c.py', fail, () => {});
    assert.deepEqual(Object.keys(typed), ['__proto__', 'k']);
    const text: unknown = JSON.parse('{"parameters": {"note": {"type": "str", "default": ""}}}');
    assert.deepEqual(
      typedParams(['note={"a": 1, "a": 2}'], text, 'c.py', fail, () => {}),
      {
        note: '{"a": 1, "a": 2}',
      },
    );
    assert.equal(Object.getOwnPropertyDescriptor(typed, '__proto__')?.value, 3);
    // A warning holds what the component declared and what was typed: shown with terminal escapes made harmless.
    const warned: string[] = [];
    const hostile: unknown = { parameters: { 'size\u001b]52;c;aGk=\u0007': { type: 'int', default: 1 } } };
    typedParams(['other\u001b[2J=1'], hostile, 'c.py', fail, (m) => warned.push(m));
    assert.equal(warned.length, 1);
    assert.match(warned[0] ?? '', /--param other.*declares no parameter/);
    assert.doesNotMatch(warned.join('\n'), /[\u0000-\u001f\u007f]/);
  });

  it('--param side=SELL against lowercase options takes the option as spelt, and says so; a non-match is refused with them (rt-comp9)', () => {
    const metadata: unknown = {
      parameters: {
        side: { type: 'str', options: ['buy', 'sell'] },
        venue: { type: 'str', options: ['Paper', 'paper'] },
      },
    };
    const warned: string[] = [];
    const typed = typedParams(['side=SELL'], metadata, 'c.py', fail, (m) => warned.push(m));
    // Refused before: "SELL" is not one of its options ("buy", "sell").
    assert.deepEqual(typed, { side: 'sell' });
    assert.deepEqual(warned, ['--param side: "SELL" was read as its option "sell" (as __metadata__ spells it)']);
    const refusal = (pair: string): string => {
      try {
        typedParams([pair], metadata, 'c.py', fail, () => {});
      } catch (e) {
        return (e as Error).message;
      }
      return assert.fail(`${pair} was taken`);
    };
    assert.equal(
      refusal('side=short'),
      '--param side=short: side: "short" is not one of its options ("buy", "sell") (c.py)',
    );
    // Two options that differ only in case: SELL-style reading would have to guess, so only an exact one is taken.
    assert.match(refusal('venue=PAPER'), /"PAPER" is not one of its options \("Paper", "paper"\)/);
    assert.deepEqual(
      typedParams(['venue=paper'], metadata, 'c.py', fail, () => {}),
      { venue: 'paper' },
    );
    // A 5,000-digit size: "is not a number", its 5,000 digits three times over (20 KB of usage error) before.
    const sized: unknown = { parameters: { size: { type: 'float', max: 10 } } };
    let long = '';
    try {
      typedParams([`size=${'9'.repeat(5000)}`], sized, 'c.py', fail, () => {});
    } catch (e) {
      long = (e as Error).message;
    }
    assert.match(long, /^--param size=…: size: "9{60}… \(5,000 characters\)" is too large for a number; /);
    assert.ok(long.length < 300, `${long.length} characters`);
  });

  it("number flags: only decimal numbers within the flag's range, each refusal naming the flag, value and range", async () => {
    const cash = { what: 'a positive amount', min: 0, aboveMin: true, max: 1e12, range: 'at most 1,000,000,000,000' };
    const ticks = { what: 'a whole number ≥ 0', min: 0, max: 1_000_000, whole: true, range: 'at most 1,000,000' };
    const read = (flag: string, text: string, spec: Parameters<typeof numberFlag>[2]): number | string => {
      try {
        return numberFlag(flag, text, spec, fail);
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const [text, why] of [
      ['1e308', ''],
      ['Infinity', '; not a finite number'],
      ['-0', ''],
      ['0', ''],
      ['1e-400', '; too small to tell from 0'],
      ['0x10', '; write it in decimal digits'],
      ['1_000', '; write it without _ between digits'],
      [' 5', '; no spaces around it'],
      ['5 lots', '; not a number'],
      ['', ''],
    ] as const)
      assert.equal(
        read('--cash', text, cash),
        `--cash must be a positive amount, not '${text}' (at most 1,000,000,000,000${why})`,
        text,
      );
    assert.equal(read('--cash', '2500.50', cash), 2500.5);
    assert.equal(read('--cash', '1e12', cash), 1e12);
    for (const [text, why] of [
      ['1e20', ''],
      ['9007199254740993', ''],
      ['-0', '; a minus sign on a number that cannot be negative'],
      ['-1', ''],
      ['2.5', '; not a whole number'],
    ] as const)
      assert.equal(
        read('--spread-ticks', text, ticks),
        `--spread-ticks must be a whole number ≥ 0, not '${text}' (at most 1,000,000${why})`,
        text,
      );
    assert.equal(read('--spread-ticks', '0', ticks), 0);
    assert.equal(read('--spread-ticks', '2e1', ticks), 20);
    assert.equal(
      read('--timeout', '2147484', TIMER_SECONDS),
      "--timeout must be a positive number of seconds up to 2147483 (Node's longest timer), not '2147484'",
    );

    // Through the commands: exit 2, said before anything runs.
    const write = process.stderr.write.bind(process.stderr);
    let printed = '';
    process.stderr.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
    try {
      assert.equal(await main(['replay', 'missing.py', '--data', 'a.csv', '--cash', '1e308']), 2);
      assert.equal(await main(['replay', 'missing.py', '--data', 'a.csv', '--spread-ticks', '1e20']), 2);
      assert.equal(await main(['replay', 'missing.py', '--data', 'a.csv', '--max-nesting-depth', '0x40']), 2);
      assert.equal(await main(['audit', 'tail', '-n', '1e10']), 2);
      assert.equal(await main(['test-order', 'missing.py', '--broker', 'ib', '--port', '70000']), 2);
      assert.equal(await main(['test-order', 'missing.py', '--broker', 'ib', '--client-id', '4294967296']), 2);
      assert.equal(await main(['algo', 'missing.py', '--max-seconds', 'Infinity']), 2);
      assert.equal(await main(['compare', 'missing.py', '--venues', 'paper', '--parent-seconds', '1e308']), 2);
    } finally {
      process.stderr.write = write;
    }
    for (const line of [
      "--cash must be a positive amount, not '1e308' (at most 1,000,000,000,000)",
      "--spread-ticks must be a whole number ≥ 0, not '1e20' (at most 1,000,000)",
      "--max-nesting-depth must be a positive whole number, not '0x40' (at most 9007199254740991; write it in decimal digits)",
      "-n must be a whole number, not '1e10' (from 0 to 1,000,000,000)",
      "--port must be a whole number from 1 to 65535, not '70000'",
      "--client-id must be a whole number from 0 to 2147483647, not '4294967296'",
      "--max-seconds must be a positive number, not 'Infinity' (at most 2147483, about 24 days; not a finite number)",
      "--parent-seconds must be a positive number of seconds, not '1e308' (at most 2147483)",
    ])
      assert.ok(printed.includes(line), `${line}\n in:\n${printed}`);
  });

  it('--symbol with a control character, a look-alike letter or a path: exit 2 before anything runs, shown escaped', async () => {
    const write = process.stderr.write.bind(process.stderr);
    let printed = '';
    process.stderr.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
    try {
      assert.equal(await main(['replay', 'missing.py', '--data', 'a.csv', '--symbol', 'EUR\u001b[2J_USD']), 2);
      assert.equal(await main(['test-order', 'missing.py', '--symbol', '\u0415UR_USD']), 2);
      assert.equal(await main(['compare', 'missing.py', '--venues', 'paper', '--symbol', '../../etc/passwd']), 2);
      assert.equal(await main(['algo', 'missing.py', '--symbol', '']), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.doesNotMatch(printed, /[\u001b\u0415]/, 'nothing printed as is');
    for (const line of [
      '--symbol "EUR\\u001b[2J_USD" is not a symbol: it has a control character at position 4',
      '--symbol "\\u0415UR_USD" is not a symbol: it has the character U+0415, which is not ASCII',
      '--symbol "../../etc/passwd" is not a symbol',
      '--symbol "" is not a symbol: it is empty',
    ])
      assert.ok(printed.includes(line), `${line}\n in:\n${printed}`);
  });

  it('--reason: a terminal escape never reaches the terminal or the log: resume refuses it (exit 2), halt halts with it escaped (rt-hostile16); status shows a stored reason escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-reason-'));
    const out = { stdout: '', stderr: '' };
    const writes = {
      stdout: process.stdout.write.bind(process.stdout),
      stderr: process.stderr.write.bind(process.stderr),
    };
    try {
      // As a venue's error text can reach a circuit breaker's reason: written by the engine, not by --reason.
      const paper = new PaperBroker({ clock: systemClock, stateFile: join(dir, 'paper-account.json') });
      const session = await openTradingSession({
        stateDir: dir,
        clock: systemClock,
        brokers: { paper },
        settings: { limits: { ...DEFAULT_RISK_LIMITS }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } },
      });
      session.engine.setTradingState('HALTED', 'venue said \u001b]0;pwned\u0007\u001b[2J');
      await session.close();
      process.stdout.write = (chunk: string | Uint8Array): boolean => ((out.stdout += String(chunk)), true);
      process.stderr.write = (chunk: string | Uint8Array): boolean => ((out.stderr += String(chunk)), true);
      assert.equal(await main(['status', '--state-dir', dir]), 0);
      assert.equal(await main(['resume', '--state-dir', dir, '--reason', 'x'.repeat(501)]), 2);
      // The emergency stop is not refused for its reason: it halts, the reason kept escaped.
      assert.equal(await main(['halt', '--state-dir', dir, '--reason', 'lunch\u001b[2J']), 0);
      assert.equal(await main(['status', '--state-dir', dir]), 0);
    } finally {
      process.stdout.write = writes.stdout;
      process.stderr.write = writes.stderr;
      rmSync(dir, { recursive: true, force: true });
    }
    assert.match(
      out.stderr,
      /--reason must be one line of text of at most 500 characters: it has a control or invisible character \(U\+001B\) at position 6/,
    );
    assert.match(out.stderr, /--reason must be one line of text of at most 500 characters: it is 501 characters long/);
    assert.match(out.stderr, /at position 6; halting anyway, with the reason as "lunch\\u001b\[2J"/);
    assert.ok(out.stdout.includes('Trading    HALTED: venue said \\x1b]0;pwned\\x07\\x1b[2J'), out.stdout);
    assert.ok(out.stdout.includes('Trading    HALTED: lunch\\u001b[2J'), out.stdout);
    assert.doesNotMatch(out.stdout + out.stderr, /\u001b/);
  });

  it('a usage error repeats what was typed escaped: a terminal escape in an argument is not sent to the terminal', async () => {
    const write = process.stderr.write.bind(process.stderr);
    let printed = '';
    process.stderr.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
    try {
      assert.equal(await main(['test-order', 'x.py', '--side', 'x\u001b]0;pwned\u0007']), 2);
      assert.equal(await main(['compare', 'x.py', '--venues', 'paper,x\u001b[2J']), 2);
      assert.equal(await main(['replay', 'x.py', '--data', 'a.csv', '--cash', '5\u001b[2J']), 2);
      assert.equal(await main(['algo', 'x.py', '--max-seconds', '\u001b[2J']), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.doesNotMatch(printed, /[\u0007\u001b]/);
    assert.match(printed, /--side must be buy or sell, not 'x\\x1b\]0;pwned\\x07'/);
    assert.match(printed, /unknown venue 'x\\x1b\[2J'/);
  });

  it("replay outputs: never into a trading state folder or its audit log, never over the replay's own data", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-replay-out-'));
    const state = join(dir, 'state');
    mkdirSync(join(state, 'audit'), { recursive: true });
    writeFileSync(join(state, 'audit', 'audit-000001.jsonl'), 'the record\n');
    writeFileSync(join(state, 'trading-state.json'), '{}');
    const data = join(dir, 'data.csv');
    writeFileSync(data, 'time,open,high,low,close\n');
    const write = process.stderr.write.bind(process.stderr);
    let printed = '';
    process.stderr.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
    try {
      const replay = (...extra: string[]): Promise<number> => main(['replay', 'c.py', '--data', data, ...extra]);
      assert.equal(await replay('--fills-csv', join(state, 'audit', 'audit-000001.jsonl')), 2);
      assert.equal(await replay('--fills-parquet', join(state, 'fills.parquet')), 2);
      assert.equal(await replay('--out', state), 2);
      assert.equal(await replay('--fills-csv', data), 2);
    } finally {
      process.stderr.write = write;
      assert.equal(readFileSync(join(state, 'audit', 'audit-000001.jsonl'), 'utf8'), 'the record\n');
      assert.equal(readFileSync(data, 'utf8'), 'time,open,high,low,close\n');
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(
      printed.match(
        /is a trading state folder \(it holds (audit, trading-state\.json|trading-state\.json, audit)\): a replay never writes into trading state/g,
      )?.length,
      3,
    );
    assert.match(printed, /--fills-csv .*data\.csv: this is an input of the replay/);
  });
});
