import assert from 'node:assert/strict';
import type { CredentialKey } from '../../../src/brokers/credentials';
import { MissingCredentialError, requireCredential } from '../../../src/brokers/credentials';
import { ALPACA_LIVE_URL, ALPACA_PAPER_URL } from '../../../src/brokers/alpaca/connection';
import { OANDA_LIVE_URL, OANDA_PRACTICE_URL } from '../../../src/brokers/oanda/connection';
import type { BrokerProfile } from '../../../src/brokers/registry';
import {
  bindingDigest,
  credentialBinding,
  describeBinding,
  forgetCredentials,
  legacySecretName,
  missingCredentials,
  secretName,
  secretStorageCredentials,
  storeCredential,
  type SecretStore,
} from '../../../src/views/credentials';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import {
  asProfileVenue,
  CREDENTIALS_BY_BROKER,
  DEFAULT_ENDPOINTS,
  defaultIbPort,
  environmentChoices,
  liveCheckLines,
  liveOrderSummary,
  PAPER_PROFILE,
  parseProfileList,
  activeProfileOf,
  profileEndpoint,
  profileSetting,
  upsertProfileSetting,
  wizardSteps,
} from '../../../src/views/profiles';

describe('broker profiles from settings', () => {
  it('always has the built-in paper profile first, with nothing configured', () => {
    assert.deepEqual(parseProfileList(undefined), { profiles: [PAPER_PROFILE], problems: [] });
    assert.deepEqual(parseProfileList([]).profiles, [PAPER_PROFILE]);
  });

  it('keeps valid profiles in order and resolves the default environment (never live)', () => {
    const { profiles, problems } = parseProfileList([
      { id: 'fx', broker: 'oanda' },
      { id: 'tws', broker: 'ib', environment: 'paper', port: 7497, clientId: 3 },
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      profiles.map((p) => [p.id, p.broker, p.environment]),
      [
        ['paper', 'paper', 'paper'],
        ['fx', 'oanda', 'practice'],
        ['tws', 'ib', 'paper'],
      ],
    );
  });

  it('skips a bad profile and reports its id, field and index; the others are kept', () => {
    const { profiles, problems } = parseProfileList([
      { id: 'good', broker: 'alpaca' },
      { id: 'bad-ib', broker: 'ib', port: 99999 },
      { id: 'leaky', broker: 'binance', apiKey: 'Zq81kLmN0pQ7' },
      { id: 'good2', broker: 'binance', environment: 'testnet' },
    ]);
    assert.deepEqual(
      profiles.map((p) => p.id),
      ['paper', 'good', 'good2'],
    );
    assert.equal(problems.length, 2);
    assert.equal(problems[0]?.id, 'bad-ib');
    assert.equal(problems[0]?.index, 1);
    assert.ok(
      problems[0]?.fields.includes('port') && problems[0].fields.includes('clientId'),
      String(problems[0]?.fields),
    );
    assert.match(problems[0]?.message ?? '', /"bad-ib".*port.*sptrader\.brokerProfiles\[1\].*skipped/);
    assert.equal(problems[1]?.id, 'leaky');
    assert.deepEqual(problems[1]?.fields, ['apiKey']);
    // The report names the field, never the value someone put there.
    assert.doesNotMatch(problems[1]?.message ?? '', /Zq81kLmN0pQ7/);
  });

  it('reports an environment the venue does not have, and duplicate or reserved ids', () => {
    const { profiles, problems } = parseProfileList([
      { id: 'x', broker: 'oanda', environment: 'testnet' },
      { id: 'paper', broker: 'paper' },
      { id: 'a', broker: 'alpaca' },
      { id: 'a', broker: 'alpaca', environment: 'live' },
      'not an object',
    ]);
    assert.deepEqual(
      profiles.map((p) => p.id),
      ['paper', 'a'],
    );
    assert.deepEqual(
      problems.map((p) => [p.index, p.fields.join(',')]),
      [
        [0, 'environment'],
        [1, 'id'],
        [3, 'id'],
        [4, '(profile)'],
      ],
    );
    assert.equal(profiles[1]?.environment, 'paper', 'the first "a" wins; the live duplicate is not used');
  });

  it("skips a non-live profile whose baseUrl is the venue's live host: its orders would skip the live confirmation", () => {
    const { profiles, problems } = parseProfileList([
      { id: 'fx', broker: 'oanda', environment: 'practice', baseUrl: 'https://API-FXTRADE.oanda.com/' },
      { id: 'eq', broker: 'alpaca', baseUrl: 'https://api.alpaca.markets', dataUrl: 'https://data.alpaca.markets' },
      { id: 'bn', broker: 'binance', environment: 'testnet', baseUrl: 'https://api3.binance.com.' },
      // The same hosts on a live profile, and other hosts on practice ones, are fine.
      { id: 'fx-live', broker: 'oanda', environment: 'live', baseUrl: 'https://api-fxtrade.oanda.com' },
      { id: 'fx-proxy', broker: 'oanda', environment: 'practice', baseUrl: 'http://127.0.0.1:8080' },
      { id: 'bn-test', broker: 'binance', baseUrl: 'https://testnet.binance.vision' },
    ]);
    assert.deepEqual(
      profiles.map((p) => p.id),
      ['paper', 'fx-live', 'fx-proxy', 'bn-test'],
    );
    assert.deepEqual(
      problems.map((p) => [p.id, p.index, p.fields]),
      [
        ['fx', 0, ['baseUrl', 'environment']],
        ['eq', 1, ['baseUrl', 'environment']],
        ['bn', 2, ['baseUrl', 'environment']],
      ],
    );
    assert.equal(
      problems[0]?.message,
      'broker profile "fx": its baseUrl https://API-FXTRADE.oanda.com/ is oanda\'s LIVE host api-fxtrade.oanda.com, but its environment is practice; orders to it would trade real money without Execute Live\'s confirmation. Set "environment": "live" (every order is then confirmed one by one) or point it at the practice host (sptrader.brokerProfiles[0]); it is skipped until fixed',
    );
    assert.match(problems[1]?.message ?? '', /alpaca's LIVE host api\.alpaca\.markets, but its environment is paper/);
  });

  it('the active profile setting: an id, else paper (with the setting named when it is not text)', () => {
    assert.deepEqual(activeProfileOf(undefined), { id: 'paper' });
    assert.deepEqual(activeProfileOf(''), { id: 'paper' });
    assert.deepEqual(activeProfileOf(' oanda-practice '), { id: 'oanda-practice' });
    for (const [bad, shown] of [
      [5, '5'],
      [{ id: 'x' }, 'an object'],
      [['x'], 'a list'],
      ['  ', 'blank text'],
      [false, 'false'],
    ] as const) {
      const { id, problem } = activeProfileOf(bad);
      assert.equal(id, 'paper');
      assert.equal(
        problem,
        `sptrader.activeProfile must be a profile id such as "paper", not ${shown}; choose one with "SPtrader: Select Profile"`,
      );
    }
  });

  it('reports a setting that is not an array', () => {
    const { profiles, problems } = parseProfileList({ id: 'x' });
    assert.deepEqual(profiles, [PAPER_PROFILE]);
    assert.equal(problems.length, 1);
  });

  it('saves defined non-secret fields only, replacing a profile of the same id', () => {
    const list = upsertProfileSetting([{ id: 'a', broker: 'alpaca' }, { other: true }], {
      id: 'a',
      broker: 'alpaca',
      environment: 'live',
      baseUrl: 'https://example.com',
    });
    assert.deepEqual(list, [
      { id: 'a', broker: 'alpaca', environment: 'live', baseUrl: 'https://example.com' },
      { other: true },
    ]);
    assert.deepEqual(upsertProfileSetting(undefined, { id: 'b', broker: 'ib', environment: 'paper', clientId: 0 }), [
      { id: 'b', broker: 'ib', environment: 'paper', clientId: 0 },
    ]);
    assert.deepEqual(Object.keys(profileSetting({ id: 'o', broker: 'oanda', environment: 'practice' })), [
      'id',
      'broker',
      'environment',
    ]);
  });

  it('offers live last, and IB default ports per application and environment', () => {
    assert.deepEqual(environmentChoices('oanda'), ['practice', 'live']);
    assert.deepEqual(environmentChoices('binance'), ['testnet', 'live']);
    assert.deepEqual(environmentChoices('paper'), ['paper']);
    assert.equal(defaultIbPort('paper', 'tws'), 7497);
    assert.equal(defaultIbPort('paper', 'gateway'), 4002);
    assert.equal(defaultIbPort('live', 'tws'), 7496);
    assert.equal(defaultIbPort('live', 'gateway'), 4001);
    assert.deepEqual(CREDENTIALS_BY_BROKER.ib, []);
    assert.deepEqual(
      CREDENTIALS_BY_BROKER.oanda.map((c) => c.key),
      ['oanda.token', 'oanda.accountId'],
    );
  });

  it('the profile wizard counts the questions of the chosen venue ("n/N"); editing skips the venue and the id', () => {
    assert.deepEqual(wizardSteps('oanda', false), ['broker', 'environment', 'id', 'baseUrl']);
    assert.deepEqual(wizardSteps('alpaca', false), ['broker', 'environment', 'id', 'baseUrl', 'dataUrl', 'dataFeed']);
    assert.deepEqual(wizardSteps('ib', false), [
      'broker',
      'environment',
      'id',
      'ibApplication',
      'host',
      'port',
      'clientId',
    ]);
    assert.deepEqual(wizardSteps('paper', false), ['broker', 'environment', 'id']);
    assert.deepEqual(wizardSteps('alpaca', true), ['environment', 'baseUrl', 'dataUrl', 'dataFeed']);
    assert.deepEqual(wizardSteps('paper', true), ['environment']);
  });

  it('a live order summary shows side, quantity, symbol, type, price, time in force and the account', () => {
    const text = liveOrderSummary(
      {
        symbol: 'EUR_USD',
        side: 'sell',
        quantity: 1000,
        order_type: { type: 'limit', price: 1.0845 },
        time_in_force: { type: 'GTC' },
        metadata: {},
      },
      { id: 'fx-live', broker: 'oanda', environment: 'live' },
      { balance: 12345.6, currency: 'USD' },
    );
    assert.match(text, /SELL 1000 EUR_USD/);
    assert.match(text, /LIMIT 1\.0845/);
    assert.match(text, /Time in force: GTC/);
    assert.match(text, /"fx-live" \(oanda, live\), balance 12,345\.60 USD/);
  });

  it("a live confirmation's quote and checks say when they were judged against a delayed quote (IB without a live subscription)", () => {
    const risk = [
      { check: 'max_order_quantity' as const, passed: true, limit: 1000, actual: 10 },
      { check: 'price_collar' as const, passed: true, limit: 500, actual: 12.5, delayedQuote: true as const },
    ];
    const delayed = liveCheckLines(risk, { bid: 99, ask: 101 });
    assert.equal(
      delayed.quote,
      "\nQuote when checked: bid 99 / ask 101 (NOT the live price: the venue's DELAYED market data, some 15 minutes behind, or a STALE quote, market closed or halted or none for over a minute)",
    );
    assert.equal(
      delayed.checks,
      '✓ max_order_quantity: 10 (limit 1000)\n✓ price_collar: 12.5 (limit 500), at the delayed quote',
    );
    const live = liveCheckLines([{ ...risk[1]!, delayedQuote: undefined }], { bid: 99, ask: 101 });
    assert.equal(live.quote, '\nQuote when checked: bid 99 / ask 101');
    assert.equal(live.checks, '✓ price_collar: 12.5 (limit 500)');
    assert.equal(liveCheckLines(risk, { bid: undefined, ask: 101 }).quote, '');
  });
});

class FakeSecrets implements SecretStore {
  readonly values = new Map<string, string>();
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(key));
  }
  store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.values.delete(key);
    return Promise.resolve();
  }
}

const fx: BrokerProfile = { id: 'fx', broker: 'oanda', environment: 'practice' };

describe('SecretStorage credentials', () => {
  it('stores each key under a name bound to profile, venue, environment and endpoint, separately per profile', async () => {
    const secrets = new FakeSecrets();
    const fx2 = credentialBinding({ id: 'fx2', broker: 'oanda', environment: 'practice' });
    await storeCredential(secrets, credentialBinding(fx), 'oanda.token', ' tok-123456 ');
    await storeCredential(secrets, fx2, 'oanda.token', 'other-654321');
    const name = secretName(credentialBinding(fx), 'oanda.token');
    assert.match(name, /^sptrader\.fx\.[0-9a-f]{32}\.oanda\.token$/);
    assert.equal(secrets.values.get(name), 'tok-123456');
    assert.equal(await secretStorageCredentials(secrets, credentialBinding(fx)).get('oanda.token'), 'tok-123456');
    assert.equal(await secretStorageCredentials(secrets, fx2).get('oanda.token'), 'other-654321');
    await storeCredential(secrets, credentialBinding(fx), 'oanda.token', '');
    assert.equal(secrets.values.has(name), false);
  });

  it('a profile redefined with another endpoint, environment or venue under the same id finds no credential', async () => {
    const secrets = new FakeSecrets();
    await storeCredential(secrets, credentialBinding(fx), 'oanda.token', 'tok-123456');
    const redefinitions: BrokerProfile[] = [
      { ...fx, baseUrl: 'http://127.0.0.1:9999' },
      { ...fx, baseUrl: 'https://api-fxpractice.oanda.com.evil.example' },
      { ...fx, baseUrl: 'https://api-fxpractice.oanda.com/proxy' },
      { ...fx, environment: 'live' },
    ];
    for (const profile of redefinitions) {
      assert.equal(
        await secretStorageCredentials(secrets, credentialBinding(profile), { adoptLegacy: true }).get('oanda.token'),
        undefined,
        JSON.stringify(profile),
      );
    }
    // The same endpoint spelled differently is the same binding.
    for (const baseUrl of [
      'https://api-fxpractice.oanda.com',
      'https://API-FXPRACTICE.oanda.com/',
      'https://api-fxpractice.oanda.com:443//',
    ]) {
      assert.equal(
        await secretStorageCredentials(secrets, credentialBinding({ ...fx, baseUrl })).get('oanda.token'),
        'tok-123456',
        baseUrl,
      );
    }
    assert.equal(
      secretName(credentialBinding({ ...fx, broker: 'alpaca', environment: 'paper' }), 'oanda.token') ===
        secretName(credentialBinding(fx), 'oanda.token'),
      false,
    );
  });

  it('a value stored by an earlier version under the profile id alone is adopted once by the user’s profile, then moved', async () => {
    const secrets = new FakeSecrets();
    await secrets.store(legacySecretName('fx', 'oanda.token'), 'old-tok-123456');
    assert.equal(legacySecretName('fx', 'oanda.token'), 'sptrader.fx.oanda.token');
    // Without adoption (not the user's own profile) it is not read.
    assert.equal(
      await secretStorageCredentials(secrets, credentialBinding({ ...fx, baseUrl: 'http://127.0.0.1:9999' })).get(
        'oanda.token',
      ),
      undefined,
    );
    const source = secretStorageCredentials(secrets, credentialBinding(fx), { adoptLegacy: true });
    assert.equal(await source.get('oanda.token'), 'old-tok-123456');
    assert.equal(secrets.values.has('sptrader.fx.oanda.token'), false, 'the legacy entry is gone');
    assert.equal(secrets.values.get(secretName(credentialBinding(fx), 'oanda.token')), 'old-tok-123456');
    // Now bound: a redefinition with another endpoint cannot adopt it any more.
    assert.equal(
      await secretStorageCredentials(secrets, credentialBinding({ ...fx, baseUrl: 'http://127.0.0.1:9999' }), {
        adoptLegacy: true,
      }).get('oanda.token'),
      undefined,
    );
  });

  it('lists missing keys, forgets a binding, and describes a binding without any value', async () => {
    const secrets = new FakeSecrets();
    const binding = credentialBinding(fx);
    await storeCredential(secrets, binding, 'oanda.token', 'tok-123456');
    const source = secretStorageCredentials(secrets, binding);
    assert.deepEqual(await missingCredentials(source, ['oanda.token', 'oanda.accountId']), ['oanda.accountId']);
    await forgetCredentials(secrets, binding, ['oanda.token', 'oanda.accountId']);
    assert.equal(secrets.values.size, 0);
    assert.equal(describeBinding(binding), 'profile "fx" (oanda, practice) at https://api-fxpractice.oanda.com');
    assert.notEqual(bindingDigest(binding), bindingDigest({ ...binding, endpoint: 'http://127.0.0.1:9999' }));
  });

  it('a missing key says to run Set Credentials for the profile and names the endpoint, never a value', async () => {
    const secrets = new FakeSecrets();
    await storeCredential(secrets, credentialBinding(fx), 'oanda.token', 'tok-123456');
    const source = secretStorageCredentials(secrets, credentialBinding(fx));
    const key: CredentialKey = 'oanda.accountId';
    await assert.rejects(requireCredential(source, key), (e: unknown) => {
      assert.ok(e instanceof MissingCredentialError);
      assert.match(
        e.message,
        /oanda\.accountId.*'SPtrader: Set Credentials' for profile fx.*https:\/\/api-fxpractice\.oanda\.com/,
      );
      assert.doesNotMatch(e.message, /tok-123456/);
      return true;
    });
  });
});

describe('profile endpoints', () => {
  it('are the venue’s own address per environment, or the base URL in one spelling, or host:port', () => {
    assert.equal(profileEndpoint(fx), 'https://api-fxpractice.oanda.com');
    assert.equal(profileEndpoint({ ...fx, environment: 'live' }), 'https://api-fxtrade.oanda.com');
    assert.equal(
      profileEndpoint({ id: 'a', broker: 'alpaca', environment: 'paper' }),
      'https://paper-api.alpaca.markets',
    );
    assert.equal(profileEndpoint({ id: 'a', broker: 'alpaca', environment: 'live' }), 'https://api.alpaca.markets');
    assert.equal(
      profileEndpoint({ id: 'b', broker: 'binance', environment: 'testnet' }),
      'https://testnet.binance.vision',
    );
    assert.equal(profileEndpoint({ id: 'b', broker: 'binance', environment: 'live' }), 'https://api.binance.com');
    assert.equal(profileEndpoint({ ...fx, baseUrl: 'HTTP://LocalHost:8080/v3/' }), 'http://localhost:8080/v3');
    assert.equal(profileEndpoint({ id: 'i', broker: 'ib', environment: 'paper', clientId: 1 }), '127.0.0.1:7497');
    assert.equal(
      profileEndpoint({ id: 'i', broker: 'ib', environment: 'live', clientId: 1, host: 'GW.local', port: 4001 }),
      'gw.local:4001',
    );
  });

  it('equal the adapters’ own defaults', () => {
    assert.equal(DEFAULT_ENDPOINTS.oanda.other, OANDA_PRACTICE_URL);
    assert.equal(DEFAULT_ENDPOINTS.oanda.live, OANDA_LIVE_URL);
    assert.equal(DEFAULT_ENDPOINTS.alpaca.other, ALPACA_PAPER_URL);
    assert.equal(DEFAULT_ENDPOINTS.alpaca.live, ALPACA_LIVE_URL);
  });

  it("a paper profile's venue keeps the scratch copy Test Order fills on, under the profile's id; no other kind has one", async () => {
    const paper = new PaperBroker({ clock: new TestClock(), startingCash: 50_000 });
    await paper.connect();
    const desk = asProfileVenue(paper, { id: 'desk', broker: 'paper' } as BrokerProfile) as ReturnType<
      typeof asProfileVenue
    > & { scratchCopy?: () => ReturnType<typeof asProfileVenue> };
    assert.equal(typeof desk.scratchCopy, 'function');
    const copy = desk.scratchCopy!();
    assert.equal(copy.id, 'desk');
    await copy.connect();
    const order = { symbol: 'AAPL', side: 'buy' as const, quantity: 1, order_type: { type: 'market' as const } };
    const filled = await copy.submitOrder({
      ...order,
      time_in_force: { type: 'IOC' },
      client_order_id: 'sp-copy-1',
      metadata: {},
    });
    assert.equal(filled.status.status, 'filled');
    assert.equal(paper.fillsEver(), 0, 'the account itself did not trade');
    assert.deepEqual(await paper.getPositions(), []);
    // The same wrapper around a venue that stands in for another kind of account gets no copy.
    const other = asProfileVenue(paper, { id: 'oanda-practice', broker: 'oanda' } as BrokerProfile);
    assert.equal('scratchCopy' in other, false);
  });
});
