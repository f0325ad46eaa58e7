/** A component's declared parameters: read from __metadata__ (by the real harness), defaults filled in, values checked. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  checkParameterValue,
  describeParameter,
  formatParameterValue,
  parseParameterText,
  readParameterSpecs,
  resolveParameters,
  type ParameterSpec,
} from '../../../src/python/componentParameters';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

const ROOT = join(__dirname, '../../../..');
const ALGOS = join(ROOT, 'examples/workspace/core/orders/execution_algos');

describe('component parameters', function () {
  this.timeout(60_000);

  describe('from the examples, read by the harness without running them', () => {
    let worker: PythonWorker;
    before(async () => {
      worker = new PythonWorker({
        interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
        timeoutMs: 30_000,
      });
    });
    after(async () => worker.dispose());

    it('market_order.py: types, defaults, min/max and options, in the order declared', async () => {
      const info = await worker.inspect(join(ALGOS, 'market_order.py'));
      const { specs, problems } = readParameterSpecs(info.metadata);
      assert.deepEqual(problems, []);
      assert.deepEqual(
        specs.map((s) => s.name),
        ['base_size', 'max_slippage', 'urgency'],
      );
      assert.deepEqual(specs[0], {
        name: 'base_size',
        type: 'float',
        declaredType: 'float',
        default: 0.01,
        min: 0.001,
        max: 1,
        description: 'Position size as a fraction of capital',
      });
      assert.deepEqual(specs[2]?.options, ['passive', 'normal', 'aggressive']);
      assert.equal(describeParameter(specs[0] as ParameterSpec), 'float, 0.001 … 1');
      assert.equal(describeParameter(specs[2]), 'one of "passive", "normal", "aggressive"');
      const resolved = resolveParameters(specs, { urgency: 'aggressive' });
      assert.deepEqual(resolved, { ok: true, values: { base_size: 0.01, max_slippage: 0.001, urgency: 'aggressive' } });
    });

    it('sma_cross.py: an int period with a minimum refuses 1 and names the rule', async () => {
      const info = await worker.inspect(join(ALGOS, 'sma_cross.py'));
      const { specs } = readParameterSpecs(info.metadata);
      const period = specs.find((s) => s.name === 'period') as ParameterSpec;
      assert.equal(period.type, 'int');
      assert.deepEqual(parseParameterText(period, '20'), { ok: true, value: 20 });
      const low = parseParameterText(period, '1');
      assert.equal(low.ok, false);
      assert.equal(
        !low.ok && low.message,
        "period: 1 is below its minimum 2; __metadata__['parameters']['period'] asks for a whole number, ≥ 2",
      );
      const fraction = parseParameterText(period, '2.5');
      assert.match(!fraction.ok ? fraction.message : '', /^period: 2\.5 is not a whole number/);
      const text = parseParameterText(period, 'thirty');
      assert.match(!text.ok ? text.message : '', /^period: "thirty" is not a number/);
    });
  });

  it('reads JSON spellings of types, infers a type from the default, and says what is wrong with a declaration', () => {
    const { specs, problems } = readParameterSpecs({
      parameters: {
        n: { type: 'integer', default: 3, min: 5 },
        flag: { default: true },
        weights: { type: 'array', default: [1, 2] },
        broken: { type: 'float', min: 'low' },
        odd: { type: 'Decimal128', default: 'x' },
        span: { type: 'float', min: 10, max: 1 },
      },
    });
    assert.deepEqual(
      specs.map((s) => [s.name, s.type]),
      [
        ['n', 'int'],
        ['flag', 'bool'],
        ['weights', 'list'],
        ['broken', 'any'],
        ['odd', 'any'],
        ['span', 'float'],
      ],
    );
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0] ?? '', /__metadata__\['parameters'\]\['n'\]\['default'\]: 3 is below its minimum 5/);
    assert.match(
      problems[1] ?? '',
      /__metadata__\['parameters'\]\['broken'\]\['min'\]: .*taken as text with no checks/,
    );
    assert.match(problems[2] ?? '', /\['span'\]: min 10 is above max 1/);
    assert.deepEqual(readParameterSpecs({ parameters: [1, 2] }).problems, [
      "__metadata__['parameters'] is not a dict of parameters: ignored",
    ]);
    assert.deepEqual(readParameterSpecs(null), { specs: [], problems: [] });
    assert.deepEqual(readParameterSpecs({ name: 'x' }), { specs: [], problems: [] });
  });

  it('parses what a user types for each type, and options by how they are written', () => {
    const spec = (s: Partial<ParameterSpec> & Pick<ParameterSpec, 'type'>): ParameterSpec => ({
      name: 'p',
      declaredType: s.type,
      ...s,
    });
    assert.deepEqual(parseParameterText(spec({ type: 'float' }), ' 1_000.5 '), { ok: true, value: 1000.5 });
    assert.deepEqual(parseParameterText(spec({ type: 'bool' }), 'Yes'), { ok: true, value: true });
    assert.deepEqual(parseParameterText(spec({ type: 'bool' }), 'off'), { ok: true, value: false });
    assert.equal(parseParameterText(spec({ type: 'bool' }), 'maybe').ok, false);
    assert.deepEqual(parseParameterText(spec({ type: 'str' }), ' keep spaces '), { ok: true, value: ' keep spaces ' });
    assert.deepEqual(parseParameterText(spec({ type: 'list' }), '[1, "a"]'), { ok: true, value: [1, 'a'] });
    const notJson = parseParameterText(spec({ type: 'dict' }), '{a: 1}');
    assert.match(!notJson.ok ? notJson.message : '', /is not JSON; write a dict as JSON/);
    assert.deepEqual(parseParameterText(spec({ type: 'dict' }), '[]').ok, false);
    assert.deepEqual(parseParameterText(spec({ type: 'any' }), '{"a": 1}'), { ok: true, value: { a: 1 } });
    assert.deepEqual(parseParameterText(spec({ type: 'any' }), 'plain'), { ok: true, value: 'plain' });
    const choice = spec({ type: 'int', options: [1, 5, 15] });
    assert.deepEqual(parseParameterText(choice, '5'), { ok: true, value: 5 });
    const other = parseParameterText(choice, '7');
    assert.equal(!other.ok && other.message, 'p: 7 is not one of its options (1, 5, 15)');
    const words = spec({ type: 'str', options: ['passive', 'normal'] });
    assert.deepEqual(parseParameterText(words, 'normal'), { ok: true, value: 'normal' });
    assert.equal(parseParameterText(words, 'fast').ok, false);
    const capped = spec({ type: 'float', max: 1 });
    assert.match(
      !parseParameterText(capped, '1.5').ok ? (parseParameterText(capped, '1.5') as { message: string }).message : '',
      /1\.5 is above its maximum 1; .* asks for ≤ 1/,
    );
  });

  it('reads a number as Python reads one: decimal digits only, never 0x10 as 16 (the value said in decimal)', () => {
    const spec = (type: 'int' | 'float'): ParameterSpec => ({ name: 'quantity', type, declaredType: type, min: 1 });
    const message = (type: 'int' | 'float', text: string): string => {
      const read = parseParameterText(spec(type), text);
      return read.ok ? `read as ${JSON.stringify(read.value)}` : read.message;
    };
    assert.equal(
      message('int', '0x10'),
      'quantity: "0x10" is not a decimal number (it is 16 written in base 16): write it in decimal digits, as 16; ' +
        "__metadata__['parameters']['quantity'] asks for a whole number, ≥ 1",
    );
    assert.match(message('float', '0b11'), /"0b11" is not a decimal number \(it is 3 written in base 2\)/);
    assert.match(message('int', '0o17'), /"0o17" is not a decimal number \(it is 15 written in base 8\)/);
    assert.match(message('int', '-0x1_0'), /it is -16 written in base 16\): write it in decimal digits, as -16/);
    // Python's int() and float() refuse an underscore that does not sit between two digits; Number() dropped them all.
    for (const text of ['1__000', '_1000', '1000_', '1_.5', '0x', '0b2', '1e', '.', 'Infinity', '- 5'])
      assert.match(message('float', text), /is not a number/, text);
    // What Python reads stays read: underscores between digits, a sign, a bare point, an exponent.
    assert.equal(message('int', '1_000'), 'read as 1000');
    assert.equal(message('int', '+1e3'), 'read as 1000');
    assert.equal(message('float', '.5e1'), 'read as 5');
    assert.equal(message('float', '5.'), 'read as 5');
    assert.equal(
      message('float', '1' + '0'.repeat(400)),
      'quantity: "' +
        '1' +
        '0'.repeat(59) +
        '… (401 characters)" is too large for a number; ' +
        "__metadata__['parameters']['quantity'] asks for ≥ 1",
    );
  });

  it('an option is chosen by what the text means for the declared type: True or yes for a bool, 02 or 2.0 for 2', () => {
    const spec = (s: Partial<ParameterSpec> & Pick<ParameterSpec, 'type'>): ParameterSpec => ({
      name: 'p',
      declaredType: s.type,
      ...s,
    });
    // __metadata__ writes them True and False: 'hedge=True' was "not one of its options (true, false)".
    const hedge = spec({ type: 'bool', options: [true, false] });
    for (const [text, value] of [
      ['True', true],
      ['yes', true],
      ['OFF', false],
      ['false', false],
    ] as const)
      assert.deepEqual(parseParameterText(hedge, text), { ok: true, value }, text);
    const legs = spec({ type: 'int', options: [1, 2, 5] });
    assert.deepEqual(parseParameterText(legs, '02'), { ok: true, value: 2 });
    assert.deepEqual(parseParameterText(legs, '2.0'), { ok: true, value: 2 });
    const missed = parseParameterText(legs, '3');
    assert.equal(!missed.ok && missed.message, 'p: 3 is not one of its options (1, 2, 5)');
    const notBool = parseParameterText(hedge, 'maybe');
    assert.equal(!notBool.ok && notBool.message, 'p: "maybe" is not one of its options (true, false)');
  });

  it('passes a parameter named __proto__ or constructor through as its own value (not the prototype, not dropped)', () => {
    const given = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": 5}') as Record<string, unknown>;
    const resolved = resolveParameters([], given);
    assert.ok(resolved.ok);
    const values = resolved.values;
    assert.equal(Object.getPrototypeOf(values), Object.prototype);
    assert.deepEqual(Object.keys(values), ['__proto__', 'constructor']);
    assert.equal(JSON.stringify(values), '{"__proto__":{"polluted":1},"constructor":5}');
  });

  it('resolves defaults under the given values, checks every value, and passes undeclared names through', () => {
    const specs: ParameterSpec[] = [
      { name: 'quantity', type: 'float', declaredType: 'float', default: 10000, min: 1 },
      { name: 'period', type: 'int', declaredType: 'int', default: 30, min: 2 },
      { name: 'note', type: 'str', declaredType: 'str', default: null },
      { name: 'free', type: 'str', declaredType: 'str' },
    ];
    assert.deepEqual(resolveParameters(specs, { period: 5, extra: [1] }), {
      ok: true,
      values: { quantity: 10000, period: 5, note: null, extra: [1] },
    });
    const bad = resolveParameters(specs, { quantity: 0, period: '5' });
    assert.deepEqual(bad, {
      ok: false,
      problems: [
        { name: 'quantity', message: 'quantity: 0 is below its minimum 1' },
        { name: 'period', message: 'period: "5" is not a whole number' },
      ],
    });
    const badDefault = resolveParameters([{ name: 'n', type: 'int', declaredType: 'int', default: 1, min: 2 }], {});
    assert.match(
      !badDefault.ok ? (badDefault.problems[0]?.message ?? '') : '',
      /n: 1 is below its minimum 2 \(its default in __metadata__\['parameters'\]\['n'\]\['default'\]\)/,
    );
    assert.equal(checkParameterValue(specs[0] as ParameterSpec, 5), undefined);
    assert.equal(formatParameterValue('EUR_USD'), 'EUR_USD');
    assert.equal(formatParameterValue([1, 2]), '[1,2]');
  });
  it("a declared type that is a name on Object's prototype ('constructor', '__proto__') is an unknown type: the value passes as given", () => {
    for (const type of ['constructor', '__proto__']) {
      const { specs } = readParameterSpecs({ parameters: { size: { type, default: 1 } } });
      assert.equal(specs[0]?.type, 'any', type);
      // Read as Object's constructor, the value was lost: { ok: true } with no value.
      assert.deepEqual(parseParameterText(specs[0], '5'), { ok: true, value: 5 });
    }
  });
});
