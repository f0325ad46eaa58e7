import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from '../../../src/execution/audit/canonicalJson';
import {
  CIRCULAR,
  isSecretKey,
  MAX_REDACTION_DEPTH,
  REDACTED,
  redactSecrets,
  redactSecretsDeep,
  TOO_DEEP,
} from '../../../src/common/secrets';

const SECRET = 'sk_live_Zq81kLmN0pQ7';

describe('isSecretKey', () => {
  it('knows the usual names of secrets in every spelling', () => {
    for (const key of [
      'api_key',
      'apikey',
      'api-key',
      'apiKey',
      'API_KEY',
      'ApiKey',
      'x-api-key',
      'X-Api-Key',
      'api key',
      'api.key',
      'secret',
      'client_secret',
      'secretKey',
      'SECRET_KEY',
      'password',
      'Password',
      'passwd',
      'db_passwd',
      'pwd',
      'user_pwd',
      'passphrase',
      'token',
      'Token',
      'access_token',
      'accessToken',
      'refresh_token',
      'auth_token',
      'id_token',
      'tokens',
      'private_key',
      'privateKey',
      'privKey',
      'signing_key',
      'aws_access_key_id',
      'authorization',
      'Authorization',
      'bearer',
      'bearerToken',
      'credential',
      'credentials',
      'Credentials',
      'auth',
      'X-Auth',
      'otp',
      'TOTP',
      'jwt',
      'cookie',
      'Set-Cookie',
      'mnemonic',
      'oanda.token',
      'binance.apiKey',
      'alpaca.secretKey',
    ])
      assert.equal(isSecretKey(key), true, key);
  });

  it('sees through Unicode disguises: full-width letters, invisible characters, other scripts around the word', () => {
    for (const key of [
      'ＡＰＩ＿ＫＥＹ', // full-width
      'ｐａｓｓｗｏｒｄ',
      'pass\u200Bword', // zero-width space
      'api\u00ADkey', // soft hyphen
      'to\u200Dken', // zero-width joiner
      'пароль_password', // Cyrillic beside the word
      '密码_token',
      'ℙassword', // double-struck P folds to P
      'ＢＥＡＲＥＲ',
    ])
      assert.equal(isSecretKey(key), true, JSON.stringify(key));
  });

  it('leaves ordinary order and venue fields alone, and the rate limiter’s token bucket', () => {
    for (const key of [
      'symbol',
      'side',
      'quantity',
      'price',
      'client_order_id',
      'order_id',
      'account_id',
      'accountId',
      'venue',
      'metadata',
      'author',
      'authority',
      'cwd',
      'pin_bar',
      'keyboard',
      'monkey',
      'spread_pips',
      'token_bucket',
      'tokenBucket',
      'token_count',
      'tokens_per_second',
      'tokenizer',
      'token_type',
      'time_in_force',
      'risk_limits',
      'seed',
      '',
      '密码', // an unknown script alone: no rule for it (documented)
    ])
      assert.equal(isSecretKey(key), false, JSON.stringify(key));
  });

  it('a name that only contains an exempt "token" word is still a secret when it names another secret too', () => {
    assert.equal(isSecretKey('token_bucket_secret'), true);
    assert.equal(isSecretKey('access_token_type_and_token'), true);
  });

  it('gives the same verdict every time (the cache does not change it), for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (key) => {
        const first = isSecretKey(key);
        assert.equal(isSecretKey(key), first);
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it('any key that contains a secret word, in any case and with any separators around it, is secret', () => {
    const word = fc.constantFrom(
      'apiKey',
      'api_key',
      'SECRET',
      'password',
      'Passphrase',
      'access_token',
      'PRIVATE-KEY',
      'Authorization',
      'credentials',
    );
    const affix = fc.stringMatching(/^[a-z0-9]{0,6}$/);
    const sep = fc.constantFrom('', '_', '-', '.', ' ', ':');
    fc.assert(
      fc.property(affix, sep, word, sep, affix, fc.boolean(), (before, s1, w, s2, after, upper) => {
        const key = `${before}${s1}${w}${s2}${after}`;
        assert.equal(isSecretKey(upper ? key.toUpperCase() : key), true, key);
      }),
      { numRuns: 1000, seed: 12 },
    );
  });
});

describe('redactSecretsDeep', () => {
  it('redacts at every depth, in objects and arrays, and leaves the input alone', () => {
    const input = {
      symbol: 'EUR_USD',
      quantity: 10_000,
      metadata: {
        note: 'keep me',
        api_key: SECRET,
        legs: [
          { id: 1, broker: { credentials: { token: SECRET, user: 'me' } } },
          [{ password: SECRET }],
          'plain',
          7,
          null,
        ],
        headers: { 'X-API-KEY': SECRET, Authorization: `Bearer ${SECRET}`, accept: 'json' },
      },
    };
    const before = JSON.stringify(input);
    const out = redactSecretsDeep(input);
    assert.deepEqual(out, {
      symbol: 'EUR_USD',
      quantity: 10_000,
      metadata: {
        note: 'keep me',
        api_key: REDACTED,
        legs: [{ id: 1, broker: { credentials: REDACTED } }, [{ password: REDACTED }], 'plain', 7, null],
        headers: { 'X-API-KEY': REDACTED, Authorization: REDACTED, accept: 'json' },
      },
    });
    assert.equal(JSON.stringify(input), before, 'the input is unchanged');
    assert.ok(!JSON.stringify(out).includes(SECRET));
  });

  it('redacts whatever a secret key holds (objects, arrays, numbers, null), and secret keys in unicode spellings', () => {
    const out = redactSecretsDeep({
      secret: { nested: SECRET },
      token: [SECRET],
      pin_code: 1234,
      password: null,
      ＡＰＩ＿ＫＥＹ: SECRET,
      'pass\u200Bword': SECRET,
      ключ: 'kept: not a rule',
    });
    assert.deepEqual(out, {
      secret: REDACTED,
      token: REDACTED,
      pin_code: 1234,
      password: REDACTED,
      ＡＰＩ＿ＫＥＹ: REDACTED,
      'pass\u200Bword': REDACTED,
      ключ: 'kept: not a rule',
    });
  });

  it('ends a cycle with "[circular]" instead of carrying the original object (and its secrets) into the copy', () => {
    const a: Record<string, unknown> = { name: 'a', api_key: SECRET };
    const b: Record<string, unknown> = { name: 'b', parent: a, list: [] as unknown[] };
    a['child'] = b;
    (b['list'] as unknown[]).push(a, b);
    const out = redactSecretsDeep(a) as Record<string, unknown>;
    assert.deepEqual(out, {
      name: 'a',
      api_key: REDACTED,
      child: { name: 'b', parent: CIRCULAR, list: [CIRCULAR, CIRCULAR] },
    });
    assert.ok(!JSON.stringify(out).includes(SECRET), 'the copy serialises: it holds no cycle');
  });

  it('shares of one object that are not a cycle are copied each time', () => {
    const shared = { token: SECRET, n: 1 };
    assert.deepEqual(redactSecretsDeep({ a: shared, b: [shared, shared] }), {
      a: { token: REDACTED, n: 1 },
      b: [
        { token: REDACTED, n: 1 },
        { token: REDACTED, n: 1 },
      ],
    });
  });

  it('stops past MAX_REDACTION_DEPTH with "[too deep]", without overflowing the stack, and nothing below leaks', () => {
    let deep: unknown = { api_key: SECRET };
    for (let i = 0; i < 100_000; i++) deep = i % 2 === 0 ? [deep] : { next: deep };
    const out = redactSecretsDeep(deep);
    const text = JSON.stringify(out);
    assert.ok(!text.includes(SECRET));
    assert.ok(text.includes(TOO_DEEP));
    // Within the limit, everything is kept.
    let shallow: unknown = { api_key: SECRET, kept: true };
    for (let i = 0; i < MAX_REDACTION_DEPTH - 2; i++) shallow = { next: shallow };
    const shallowText = JSON.stringify(redactSecretsDeep(shallow));
    assert.ok(shallowText.includes('"kept":true') && !shallowText.includes(TOO_DEEP) && !shallowText.includes(SECRET));
  });

  it('Maps and Sets are copied with their secrets redacted; dates and toJSON as JSON writes them', () => {
    const out = redactSecretsDeep({
      map: new Map<unknown, unknown>([
        ['token', SECRET],
        ['inner', { password: SECRET, ok: 1 }],
        [42, 'n'],
      ]),
      set: new Set([{ secret: SECRET }, 'x']),
      when: new Date(Date.UTC(2026, 0, 5)),
      custom: { toJSON: () => ({ apiKey: SECRET, shown: 'yes' }) },
    }) as Record<string, unknown>;
    assert.deepEqual(
      [...(out['map'] as Map<unknown, unknown>)],
      [
        ['token', REDACTED],
        ['inner', { password: REDACTED, ok: 1 }],
        [42, 'n'],
      ],
    );
    assert.deepEqual([...(out['set'] as Set<unknown>)], [{ secret: REDACTED }, 'x']);
    assert.equal(out['when'], '2026-01-05T00:00:00.000Z');
    assert.deepEqual(out['custom'], { apiKey: REDACTED, shown: 'yes' });
  });

  it('keeps "__proto__" as plain data and primitives as they are', () => {
    const input = JSON.parse('{"__proto__": {"token": "x", "ok": 1}, "a": 1}') as unknown;
    const out = redactSecretsDeep(input) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { token: REDACTED, ok: 1 });
    for (const v of [null, undefined, 0, -0, 'text', true, 12n]) assert.equal(redactSecretsDeep(v), v);
  });

  // Arbitrary JSON with secret values planted under secret keys at random places: none survives, and
  // everything else is exactly as it was.
  const secretKey = fc.constantFrom(
    'api_key',
    'apiKey',
    'X-Api-Key',
    'password',
    'token',
    'access_token',
    'client_secret',
    'Authorization',
    'credentials',
    'ＡＰＩ＿ＫＥＹ',
  );
  const plainKey = fc.constantFrom(
    'symbol',
    'side',
    'qty',
    'price',
    'note',
    'legs',
    'meta',
    'id',
    'token_bucket',
    'author',
    'a',
    'b',
  );
  const leaf = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 8 }),
    fc.boolean(),
    fc.constant(null),
  );
  const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('tree'), { maxLength: 4 }),
      fc
        .array(
          fc.oneof(fc.tuple(plainKey, tie('tree')), fc.tuple(secretKey, fc.oneof(tie('tree'), fc.constant(SECRET)))),
          { maxLength: 5 },
        )
        .map((entries) => {
          const o: Record<string, unknown> = {};
          for (const [k, v] of entries)
            Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
          return o;
        }),
    ),
  }));

  it('property: no value under a secret key survives, at any depth; the rest is unchanged; the input is untouched', () => {
    fc.assert(
      fc.property(tree, (value) => {
        const before = JSON.stringify(value);
        const out = redactSecretsDeep(value);
        assert.equal(JSON.stringify(value), before);
        assert.ok(!(JSON.stringify(out) ?? '').includes(SECRET), 'no planted secret is left');
        assert.deepEqual(out, reference(value));
        // The audit log's encoder finds nothing left to refuse.
        if (out !== undefined) assert.deepEqual(canonicalJson(out).secretPaths, []);
      }),
      { numRuns: 400, seed: 13 },
    );
  });

  it('property: redactSecretsDeep and redactSecrets agree on every tree without a cycle', () => {
    fc.assert(
      fc.property(tree, (value) => assert.deepEqual(redactSecretsDeep(value), redactSecrets(value))),
      { numRuns: 300, seed: 14 },
    );
  });
});

/** The obvious recursive definition, for trees (no cycles, shallow). */
function reference(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reference);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, {
        value: isSecretKey(k) ? REDACTED : reference(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}
