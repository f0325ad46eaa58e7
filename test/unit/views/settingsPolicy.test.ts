import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  riskSettingsOf,
  effectiveLimits,
  LIMIT_DIRECTIONS,
  userLiveEnabled,
  userProfiles,
  userValue,
  type InspectedSetting,
} from '../../../src/views/settingsPolicy';

const mine = [{ id: 'oanda-practice', broker: 'oanda', environment: 'practice' }];
const hostile = [{ id: 'oanda-practice', broker: 'oanda', environment: 'practice', baseUrl: 'http://127.0.0.1:9999' }];

describe('settings a workspace may not set', () => {
  it('broker profiles come from the user settings only; a workspace redefinition of the same id is ignored and reported', () => {
    const { profiles, ignored } = userProfiles({ defaultValue: [], globalValue: mine, workspaceValue: hostile });
    assert.deepEqual(
      profiles.map((p) => [p.id, p.baseUrl]),
      [
        ['paper', undefined],
        ['oanda-practice', undefined],
      ],
    );
    assert.equal(ignored.length, 1);
    assert.match(
      ignored[0]?.message ?? '',
      /sptrader\.brokerProfiles in the workspace settings \("oanda-practice"\) is ignored/,
    );
    assert.match(ignored[0]?.message ?? '', /replaced your own profile "oanda-practice"/);
  });

  it('a workspace cannot add a profile under a new id either, at workspace or folder level', () => {
    const { profiles, ignored } = userProfiles({
      globalValue: undefined,
      workspaceValue: [{ id: 'team-fake', broker: 'alpaca', baseUrl: 'http://127.0.0.1:1' }],
      workspaceFolderValue: 'not even an array',
    });
    assert.deepEqual(
      profiles.map((p) => p.id),
      ['paper'],
    );
    assert.equal(ignored.length, 2);
    assert.match(ignored[1]?.message ?? '', /a workspace folder’s settings is ignored/);
  });

  it('with nothing in the workspace, nothing is reported', () => {
    assert.deepEqual(userProfiles({ globalValue: mine }).ignored, []);
    assert.deepEqual(userProfiles(undefined).profiles.length, 1);
  });

  it('live trading is on only when the user turned it on', () => {
    assert.deepEqual(userLiveEnabled({ defaultValue: false, workspaceValue: true }).enabled, false);
    assert.equal(userLiveEnabled({ defaultValue: false, workspaceValue: true }).ignored.length, 1);
    assert.equal(userLiveEnabled({ defaultValue: false, workspaceFolderValue: true }).enabled, false);
    assert.equal(userLiveEnabled({ defaultValue: false, globalValue: true, workspaceValue: false }).enabled, true);
    assert.equal(userLiveEnabled({ defaultValue: true }).enabled, false, 'not even a default turns it on');
    assert.equal(userLiveEnabled(undefined).enabled, false);
  });

  it('userValue never reads a workspace value', () => {
    assert.equal(userValue({ defaultValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 1);
    assert.equal(userValue({ defaultValue: 1, globalValue: 4, workspaceValue: 2 }), 4);
  });
});

/** Builds the inspect function from `sptrader.<section>.<key>` → inspected. */
const inspector =
  (table: Record<string, InspectedSetting>) =>
  (section: string, key: string): InspectedSetting | undefined =>
    table[`${section}.${key}`];

describe('risk limits: a workspace may only tighten', () => {
  it('applies a stricter workspace value, ignores a looser one, and reports both', () => {
    const limits = effectiveLimits(
      inspector({
        'risk.maxOrderQuantity': { defaultValue: 1_000_000, workspaceValue: 1e15 },
        'risk.maxOrderNotional': { defaultValue: 1_000_000, globalValue: 50_000, workspaceValue: 10_000 },
        'risk.priceCollarBps': { defaultValue: 500, workspaceValue: 0 },
        'circuitBreaker.maxConsecutiveFailures': { defaultValue: 5, workspaceValue: null },
        'circuitBreaker.maxDailyLoss': { defaultValue: null, workspaceValue: 2_000 },
        'circuitBreaker.cooldownSeconds': { defaultValue: 300, workspaceValue: 1 },
        'circuitBreaker.windowSeconds': { defaultValue: 60, workspaceValue: 600 },
      }),
    );
    assert.equal(limits.risk['maxOrderQuantity'], 1_000_000);
    assert.equal(limits.risk['maxOrderNotional'], 10_000);
    assert.equal(limits.risk['priceCollarBps'], 500);
    assert.equal(limits.circuitBreaker['maxConsecutiveFailures'], 5);
    assert.equal(limits.circuitBreaker['maxDailyLoss'], 2_000);
    assert.equal(limits.circuitBreaker['cooldownSeconds'], 300);
    assert.equal(limits.circuitBreaker['windowSeconds'], 600);
    assert.deepEqual(limits.ignored.map((i) => i.key).sort(), [
      'sptrader.circuitBreaker.cooldownSeconds',
      'sptrader.circuitBreaker.maxConsecutiveFailures',
      'sptrader.risk.maxOrderQuantity',
      'sptrader.risk.priceCollarBps',
    ]);
    assert.match(
      limits.ignored.find((i) => i.key === 'sptrader.risk.maxOrderQuantity')?.message ?? '',
      /1000000000000000 in the workspace settings is ignored: it would loosen your limit \(1000000\)/,
    );
    assert.equal(limits.tightened.length, 3);
  });

  it('allowed symbols: only a subset of the user’s (an empty list, which allows all, never comes from a workspace)', () => {
    const run = (globalValue: string[] | undefined, workspaceValue: unknown) =>
      effectiveLimits(inspector({ 'risk.allowedSymbols': { defaultValue: [], globalValue, workspaceValue } }));
    assert.deepEqual(run(undefined, ['EUR_USD']).risk['allowedSymbols'], ['EUR_USD']);
    assert.deepEqual(run(['EUR_USD', 'GBP_USD'], ['GBP_USD', 'BTCUSDT']).risk['allowedSymbols'], ['GBP_USD']);
    assert.deepEqual(run(['EUR_USD'], []).risk['allowedSymbols'], ['EUR_USD']);
    const disjoint = run(['EUR_USD'], ['BTCUSDT']);
    assert.deepEqual(disjoint.risk['allowedSymbols'], ['EUR_USD']);
    assert.match(disjoint.ignored[0]?.message ?? '', /shares no symbol with yours/);
    assert.deepEqual(run(['EUR_USD'], 'EUR_USD').risk['allowedSymbols'], ['EUR_USD']);
  });

  it('a key it does not know is read from the user settings only', () => {
    const limits = effectiveLimits(inspector({ 'risk.maxSomethingNew': { defaultValue: 10, workspaceValue: 1 } }), {
      risk: ['maxSomethingNew'],
      circuitBreaker: [],
    });
    assert.equal(limits.risk['maxSomethingNew'], 10);
    assert.match(limits.ignored[0]?.message ?? '', /only the known limits/);
  });

  it('every risk and circuit-breaker setting in package.json has a direction', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, unknown> }[] };
    };
    for (const name of pkg.contributes.configuration.flatMap((category) => Object.keys(category.properties))) {
      const m = /^sptrader\.(risk|circuitBreaker)\.(.+)$/.exec(name);
      if (m) assert.ok(LIMIT_DIRECTIONS[m[1] as 'risk' | 'circuitBreaker'][m[2] as string], `${name} has a direction`);
    }
  });

  it('settings come in titled categories ("SPtrader: Risk limits"…), each setting under the category of its section', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      contributes: { configuration: { id: string; title: string; properties: Record<string, unknown> }[] };
    };
    const categories = pkg.contributes.configuration;
    assert.ok(categories.length >= 5, `${categories.length} categories`);
    const titles = categories.map((c) => c.title);
    assert.equal(new Set(titles).size, titles.length, `titles repeat: ${titles.join(', ')}`);
    for (const title of [
      'SPtrader: Python',
      'SPtrader: Risk limits',
      'SPtrader: Paper venue',
      'SPtrader: Circuit breaker',
    ])
      assert.ok(titles.includes(title), `${title} in ${titles.join(', ')}`);
    for (const category of categories) {
      assert.match(category.title, /^SPtrader: [A-Z]/);
      const names = Object.keys(category.properties);
      assert.ok(names.length > 0, `${category.title} has settings`);
      // One section per category, so that a category's settings read as one group.
      const sections = new Set(
        names.map((n) => /^sptrader\.(risk|circuitBreaker|python|paper|live)\./.exec(n)?.[1] ?? 'profiles'),
      );
      assert.equal(sections.size, 1, `${category.title}: ${names.join(', ')}`);
    }
  });

  it('property: the result is never looser than the user’s own value, whatever the workspace says', () => {
    const numberish = fc.oneof(
      fc.double({ min: -10, max: 1e9, noNaN: true }),
      fc.constant(null),
      fc.constant(undefined),
      fc.string({ maxLength: 3 }),
    );
    const keys = Object.entries(LIMIT_DIRECTIONS).flatMap(([section, keys]) =>
      Object.entries(keys)
        .filter(([, d]) => d !== 'subset')
        .map(([key, direction]) => ({ section, key, direction })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.option(fc.integer({ min: 1, max: 1e6 }), { nil: null }),
        fc.option(fc.integer({ min: 1, max: 1e6 }), { nil: undefined }),
        numberish,
        numberish,
        ({ section, key, direction }, defaultValue, globalValue, workspaceValue, workspaceFolderValue) => {
          const limits = effectiveLimits(
            inspector({ [`${section}.${key}`]: { defaultValue, globalValue, workspaceValue, workspaceFolderValue } }),
          );
          const result = (limits as unknown as Record<string, Record<string, unknown>>)[section]?.[key];
          const user = globalValue ?? defaultValue;
          if (typeof user === 'number') {
            assert.equal(typeof result, 'number');
            if (direction === 'lower') assert.ok((result as number) <= user, `${key}: ${String(result)} > ${user}`);
            else assert.ok((result as number) >= user, `${key}: ${String(result)} < ${user}`);
          } else if (direction === 'higher') {
            assert.equal(result, user, 'an "until a person resumes" stays');
          } else {
            assert.ok(result === user || (typeof result === 'number' && result > 0), 'off, or a positive limit');
          }
        },
      ),
      { numRuns: 1000, seed: 21 },
    );
  });

  it('a limit the user wrote as text ("1000") or not validly is never replaced by a workspace value (rt-hostile16)', () => {
    const limits = effectiveLimits(
      inspector({
        // The engine reads "1000" as 1,000; compared as text it was taken for a limit that is off, and a repository's
        // .vscode/settings.json raised it to 500,000, reported as "tightened".
        'risk.maxOrderQuantity': { defaultValue: 1_000_000, globalValue: '1000', workspaceValue: 500_000 },
        'risk.maxOrderNotional': { defaultValue: 1_000_000, globalValue: ' 20000 ', workspaceValue: 5_000 },
        // Not valid (a fraction where a count goes): trading is refused until the user fixes it; the workspace's 5
        // in its place lifted that.
        'risk.maxOpenOrders': { defaultValue: 200, globalValue: 10.5, workspaceValue: 5 },
        // A longer cool-down is the stricter one: 3600 s written as text is longer than the workspace's 600 s.
        'circuitBreaker.cooldownSeconds': { defaultValue: 300, globalValue: '3600', workspaceValue: 600 },
      }),
    );
    assert.equal(limits.risk['maxOrderQuantity'], '1000');
    assert.equal(limits.risk['maxOrderNotional'], 5_000, 'a workspace value below a limit in text still tightens it');
    assert.equal(limits.risk['maxOpenOrders'], 10.5);
    assert.equal(limits.circuitBreaker['cooldownSeconds'], '3600');
    assert.deepEqual(limits.tightened, [
      'sptrader.risk.maxOrderNotional: 5000 from the workspace settings (yours " 20000 ")',
    ]);
    const said = new Map(limits.ignored.map((i) => [i.key, i.message]));
    assert.match(
      said.get('sptrader.risk.maxOrderQuantity') ?? '',
      /500000 .* ignored: it would loosen your limit \("1000"\)/,
    );
    assert.match(
      said.get('sptrader.risk.maxOpenOrders') ?? '',
      /= 5 .* ignored: your own value \(10\.5\) is not valid: no order is sent until you fix it in your user settings/,
    );
    assert.match(said.get('sptrader.circuitBreaker.cooldownSeconds') ?? '', /would loosen your limit \("3600"\)/);
    const { settings, invalid } = riskSettingsOf(limits);
    assert.equal(settings, undefined, 'the user’s invalid maxOpenOrders still refuses trading');
    assert.deepEqual(
      invalid.map((p) => p.split(' ')[0]),
      ['sptrader.risk.maxOpenOrders'],
    );
  });

  it('property: the engine never runs under looser settings with a workspace than under the user’s own, however the user wrote them', () => {
    const engineKey: Record<string, string> = { windowSeconds: 'windowMs', cooldownSeconds: 'cooldownMs' };
    const keys = Object.entries(LIMIT_DIRECTIONS).flatMap(([section, keys]) =>
      Object.entries(keys)
        .filter(([, d]) => d !== 'subset')
        .map(([key, direction]) => ({ section, key, direction })),
    );
    const userWritten = fc.oneof(
      fc.integer({ min: 1, max: 1e6 }),
      fc.integer({ min: 1, max: 1e6 }).map((n) => String(n)),
      fc.integer({ min: 1, max: 1e6 }).map((n) => ` ${n}.5 `),
      fc.constantFrom(null, undefined, -5, 0, 2.5, '1O', 'abc', [], [1]),
    );
    const workspaceWritten = fc.oneof(
      fc.double({ min: -10, max: 2e6, noNaN: true }),
      fc.integer({ min: 1, max: 2e6 }),
      fc.constantFrom(null, undefined, '5', []),
    );
    const engine = (section: string, key: string, inspected: InspectedSetting) => {
      const { settings } = riskSettingsOf(effectiveLimits(inspector({ [`${section}.${key}`]: inspected })));
      if (settings === undefined) return { halted: true as const };
      const values = (section === 'risk' ? settings.limits : settings.circuitBreaker) as Record<string, unknown>;
      return { halted: false as const, value: values[engineKey[key] ?? key] as number | undefined };
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.option(fc.integer({ min: 1, max: 1e6 }), { nil: null }),
        userWritten,
        workspaceWritten,
        ({ section, key, direction }, defaultValue, globalValue, workspaceValue) => {
          const own = engine(section, key, { defaultValue, globalValue });
          const withWorkspace = engine(section, key, { defaultValue, globalValue, workspaceValue });
          if (withWorkspace.halted) return;
          assert.equal(
            own.halted,
            false,
            `${key}: the user's ${JSON.stringify(globalValue)} halts; a workspace lifted it`,
          );
          if (own.halted) return;
          const [mine, theirs] = [own.value, withWorkspace.value];
          if (direction === 'lower') {
            if (mine !== undefined) assert.ok(theirs !== undefined && theirs <= mine, `${key}: ${theirs} over ${mine}`);
          } else if (mine === undefined) {
            assert.equal(theirs, undefined, `${key}: "until a person resumes" stays`);
          } else {
            assert.ok(theirs === undefined || theirs >= mine, `${key}: ${theirs} under ${mine}`);
          }
        },
      ),
      { numRuns: 1000, seed: 16 },
    );
  });
});

describe('risk settings: each checked on its own', () => {
  const user = (risk: Record<string, unknown>, circuitBreaker: Record<string, unknown> = {}) =>
    riskSettingsOf(
      effectiveLimits((section, key) => ({ globalValue: (section === 'risk' ? risk : circuitBreaker)[key] }), {
        risk: Object.keys(risk),
        circuitBreaker: Object.keys(circuitBreaker),
      }),
    );

  it('a bad value refuses trading (no looser default in its place), naming its setting; the good ones are kept', () => {
    const { settings, problems, invalid } = user(
      { maxOrderQuantity: 10, maxOrderNotional: -1 },
      { cooldownSeconds: -1 },
    );
    // Its default (1,000,000; a 300 s cool-down) applied instead: looser than anything the user could have meant.
    assert.equal(settings, undefined, 'no settings to trade under');
    assert.deepEqual(problems, [
      'sptrader.risk.maxOrderNotional = -1 is not valid (Too small: expected number to be >0); no order is sent until it is fixed',
      'sptrader.circuitBreaker.cooldownSeconds = -1 is not valid (Too small: expected number to be >0); no order is sent until it is fixed',
    ]);
    assert.deepEqual(invalid, problems);
    // For an engine halted for it, which a person may resume before it is fixed: each bad one at its strictest.
    const { strictest } = user(
      { maxOrderQuantity: 10, maxOrderNotional: -1, allowedSymbols: [' X'] },
      { cooldownSeconds: -1 },
    );
    assert.equal(strictest?.limits.maxOrderQuantity, 10);
    assert.equal(strictest?.limits.maxOrderNotional, Number.MIN_VALUE);
    assert.deepEqual(strictest?.limits.allowedSymbols, ['\u0000none']);
    assert.equal(strictest?.limits.maxPositionQuantity, 2_000_000, 'a valid one (its default) as it is');
    assert.equal(strictest && 'cooldownMs' in strictest.circuitBreaker, false, 'only a person resumes');
    assert.equal(user({}, { windowSeconds: 'x' }).strictest?.circuitBreaker.windowMs, Number.MAX_SAFE_INTEGER);
    const good = user({ maxOrderQuantity: 10 });
    assert.equal(good.settings?.limits.maxOrderQuantity, 10);
    assert.deepEqual(good.invalid, []);
  });

  it('every known limit, each bad value alone: refused, named; never a default', () => {
    const numbers = [
      'maxOrderQuantity',
      'maxPositionQuantity',
      'maxOrderNotional',
      'priceCollarBps',
      'maxOpenOrders',
      'maxOrdersPerSecond',
      'orderBurst',
    ];
    const bad: unknown[] = [
      -1,
      0,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      'ten',
      '1O',
      '',
      true,
      { n: 1 },
      [5],
      1e-400,
    ];
    for (const key of numbers)
      for (const value of bad) {
        const { settings, invalid } = user({ [key]: value });
        assert.equal(settings, undefined, `${key} = ${String(value)}`);
        assert.match(invalid[0] ?? '', new RegExp(`^sptrader\\.risk\\.${key} = `));
      }
    for (const key of ['maxOpenOrders', 'orderBurst']) {
      assert.equal(user({ [key]: 2.5 }).settings, undefined, `${key} must be whole`);
      assert.equal(user({ [key]: 2 ** 60 }).settings, undefined, `${key} beyond 2^53`);
    }
    const huge = user({ maxOrderQuantity: 'x'.repeat(1_000_000) }).invalid[0] ?? '';
    assert.ok(huge.length < 300, `a value of a megabyte is not copied whole into the message (${huge.length})`);
    assert.match(huge, /^sptrader\.risk\.maxOrderQuantity = "x{79}… \(1,000,002 characters\) is not valid/);
    assert.equal(user({ allowedSymbols: 'EUR_USD' }).settings, undefined);
    assert.equal(user({ allowedSymbols: ['EUR_USD', 5] }).settings, undefined);
    for (const odd of [' EUR_USD', '\u0415UR_USD', 'EUR\u0000', ''])
      assert.match(
        user({ allowedSymbols: ['GBP_USD', odd] }).invalid[0] ?? '',
        /^sptrader\.risk\.allowedSymbols = .* is not valid \(each allowed symbol must be 1–32 letters/,
        JSON.stringify(odd),
      );
    for (const key of [
      'maxConsecutiveFailures',
      'maxFailuresInWindow',
      'windowSeconds',
      'maxDailyLoss',
      'cooldownSeconds',
    ])
      for (const value of [...bad, 0.0001]) {
        if (key === 'maxDailyLoss' && value === 0.0001) continue; // a loss of 0.0001 is a (strict) limit
        const { settings, invalid } = user({}, { [key]: value });
        assert.equal(settings, undefined, `${key} = ${String(value)}`);
        assert.match(invalid[0] ?? '', new RegExp(`^sptrader\\.circuitBreaker\\.${key} = `));
      }
  });

  it('an empty cool-down means only a person resumes, as package.json says (not the default 300 s)', () => {
    const { settings } = user({}, { cooldownSeconds: null });
    assert.ok(settings);
    assert.equal(settings.circuitBreaker.cooldownMs, undefined);
    assert.equal('cooldownMs' in settings.circuitBreaker, false);
    assert.equal(user({}, {}).settings?.circuitBreaker.cooldownMs, 300_000);
  });

  it('wrong types, NaN, Infinity, lists of non-symbols and unknown keys are named; a number in text is read', () => {
    const { settings, problems } = user(
      {
        maxOrderQuantity: '25',
        maxPositionQuantity: 'lots',
        priceCollarBps: Number.POSITIVE_INFINITY,
        maxOpenOrders: 2.5,
        allowedSymbols: 'EUR_USD',
        orderBurst: { n: 1 },
        maxOrderQty: 5,
      },
      { windowSeconds: 'x', maxDailyLoss: 250, halfLife: 3 },
    );
    assert.equal(settings, undefined);
    assert.deepEqual(
      problems.map((p) => p.split(' ')[0]),
      [
        'sptrader.risk.maxPositionQuantity',
        'sptrader.risk.priceCollarBps',
        'sptrader.risk.maxOpenOrders',
        'sptrader.risk.orderBurst',
        'sptrader.risk.allowedSymbols',
        'sptrader.risk.maxOrderQty',
        'sptrader.circuitBreaker.windowSeconds',
        'sptrader.circuitBreaker.halfLife',
      ],
    );
    assert.match(problems[5] ?? '', /^sptrader\.risk\.maxOrderQty is not a setting SPtrader knows; it is ignored$/);
    const read = user({ maxOrderQuantity: '25' }, { maxDailyLoss: 250, halfLife: 3 });
    assert.equal(read.settings?.limits.maxOrderQuantity, 25, 'a number in text is read');
    assert.equal(read.settings?.circuitBreaker.maxDailyLoss, 250);
    assert.deepEqual(read.problems, [
      'sptrader.circuitBreaker.halfLife is not a setting SPtrader knows; it is ignored',
    ]);
  });

  it('a prototype key in the settings object is a key like any other', () => {
    const risk = JSON.parse('{"__proto__": {"maxOrderQuantity": 1e12}, "constructor": 5}') as Record<string, unknown>;
    const { settings, problems } = riskSettingsOf({ risk, circuitBreaker: {} });
    assert.equal(settings?.limits.maxOrderQuantity, 1_000_000);
    assert.deepEqual(
      problems.map((p) => p.split(' ')[0]),
      ['sptrader.risk.__proto__', 'sptrader.risk.constructor'],
    );
  });
});
