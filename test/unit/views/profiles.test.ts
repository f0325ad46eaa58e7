import assert from 'node:assert/strict';
import type { CredentialKey } from '../../../src/brokers/credentials';
import { MissingCredentialError, requireCredential } from '../../../src/brokers/credentials';
import { secretName, secretStorageCredentials, storeCredential, type SecretStore } from '../../../src/views/credentials';
import {
  CREDENTIALS_BY_BROKER,
  defaultIbPort,
  environmentChoices,
  liveOrderSummary,
  PAPER_PROFILE,
  parseProfileList,
  profileSetting,
  upsertProfileSetting,
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
    assert.ok(problems[0]?.fields.includes('port') && problems[0].fields.includes('clientId'), String(problems[0]?.fields));
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
    assert.deepEqual(list, [{ id: 'a', broker: 'alpaca', environment: 'live', baseUrl: 'https://example.com' }, { other: true }]);
    assert.deepEqual(upsertProfileSetting(undefined, { id: 'b', broker: 'ib', environment: 'paper', clientId: 0 }), [
      { id: 'b', broker: 'ib', environment: 'paper', clientId: 0 },
    ]);
    assert.deepEqual(Object.keys(profileSetting({ id: 'o', broker: 'oanda', environment: 'practice' })), ['id', 'broker', 'environment']);
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

  it('a live order summary shows side, quantity, symbol, type, price, time in force and the account', () => {
    const text = liveOrderSummary(
      { symbol: 'EUR_USD', side: 'sell', quantity: 1000, order_type: { type: 'limit', price: 1.0845 }, time_in_force: { type: 'GTC' }, metadata: {} },
      { id: 'fx-live', broker: 'oanda', environment: 'live' },
      { balance: 12345.6, currency: 'USD' },
    );
    assert.match(text, /SELL 1000 EUR_USD/);
    assert.match(text, /LIMIT 1\.0845/);
    assert.match(text, /Time in force: GTC/);
    assert.match(text, /"fx-live" \(oanda, live\), balance 12,345\.60 USD/);
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

describe('SecretStorage credentials', () => {
  it('stores each key under sptrader.<profile>.<key>, separately per profile', async () => {
    const secrets = new FakeSecrets();
    await storeCredential(secrets, 'fx', 'oanda.token', ' tok-123456 ');
    await storeCredential(secrets, 'fx2', 'oanda.token', 'other-654321');
    assert.equal(secretName('fx', 'oanda.token'), 'sptrader.fx.oanda.token');
    assert.equal(secrets.values.get('sptrader.fx.oanda.token'), 'tok-123456');
    assert.equal(await secretStorageCredentials(secrets, 'fx').get('oanda.token'), 'tok-123456');
    assert.equal(await secretStorageCredentials(secrets, 'fx2').get('oanda.token'), 'other-654321');
    await storeCredential(secrets, 'fx', 'oanda.token', '');
    assert.equal(secrets.values.has('sptrader.fx.oanda.token'), false);
  });

  it('a missing key says to run Set Credentials for the profile, naming the key and never a value', async () => {
    const secrets = new FakeSecrets();
    await storeCredential(secrets, 'fx', 'oanda.token', 'tok-123456');
    const source = secretStorageCredentials(secrets, 'fx');
    const key: CredentialKey = 'oanda.accountId';
    await assert.rejects(requireCredential(source, key), (e: unknown) => {
      assert.ok(e instanceof MissingCredentialError);
      assert.match(e.message, /oanda\.accountId.*'SPtrader: Set Credentials' for profile fx/);
      assert.doesNotMatch(e.message, /tok-123456/);
      return true;
    });
  });
});
