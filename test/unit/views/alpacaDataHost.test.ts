/**
 * Alpaca's market-data host in the editor's profiles: a field (`dataUrl`), shown beside the trading host,
 * required with a custom `baseUrl` before anything connects, and part of where the stored keys may go.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ALPACA_DATA_URL } from '../../../src/brokers/alpaca/connection';
import { staticCredentials } from '../../../src/brokers/credentials';
import {
  BrokerProfileError,
  createBroker,
  parseBrokerProfile,
  type BrokerProfile,
} from '../../../src/brokers/registry';
import {
  bindingDigest,
  credentialBinding,
  describeBinding,
  secretName,
  secretStorageCredentials,
  storeCredential,
  type SecretStore,
} from '../../../src/views/credentials';
import {
  DEFAULT_ALPACA_DATA_ENDPOINT,
  parseProfileList,
  profileConnectProblem,
  profileDataEndpoint,
  profileHosts,
  profileSetting,
} from '../../../src/views/profiles';

class FakeSecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

const alpaca: BrokerProfile = { id: 'alp', broker: 'alpaca', environment: 'paper' };
const selfHosted: BrokerProfile = { ...alpaca, baseUrl: 'http://127.0.0.1:8101', dataUrl: 'http://127.0.0.1:8102' };

/** The digest as versions before `dataUrl` computed it: four fields after the version tag. */
const digestBeforeDataUrl = (p: BrokerProfile, endpoint: string): string =>
  createHash('sha256')
    .update(JSON.stringify(['sptrader-credential-binding-1', p.id, p.broker, p.environment, endpoint]))
    .digest('hex')
    .slice(0, 32);

describe('Alpaca market-data host in profiles', () => {
  it('dataUrl is a profile field for alpaca only, saved with the profile, https or loopback http', () => {
    assert.equal(
      parseBrokerProfile({ id: 'a', broker: 'alpaca', dataUrl: 'http://127.0.0.1:1' }).dataUrl,
      'http://127.0.0.1:1',
    );
    assert.deepEqual(profileSetting(selfHosted), {
      id: 'alp',
      broker: 'alpaca',
      environment: 'paper',
      baseUrl: 'http://127.0.0.1:8101',
      dataUrl: 'http://127.0.0.1:8102',
    });
    const refused: Array<[unknown, RegExp]> = [
      [{ id: 'o', broker: 'oanda', dataUrl: 'https://x.example' }, /dataUrl applies to alpaca only/],
      [{ id: 'a', broker: 'alpaca', dataUrl: 'http://data.example' }, /dataUrl must be https/],
      [{ id: 'a', broker: 'alpaca', dataUrl: 'data.example' }, /dataUrl must be an absolute URL/],
    ];
    for (const [input, message] of refused)
      assert.throws(
        () => parseBrokerProfile(input),
        (e: unknown) => e instanceof BrokerProfileError && e.fields.includes('dataUrl') && message.test(e.message),
        JSON.stringify(input),
      );
  });

  it('the default data host equals the adapter’s', () => {
    assert.equal(DEFAULT_ALPACA_DATA_ENDPOINT, ALPACA_DATA_URL);
  });

  it('is shown beside the trading host; other venues show their one endpoint', () => {
    assert.equal(profileHosts(alpaca), 'https://paper-api.alpaca.markets, market data https://data.alpaca.markets');
    assert.equal(
      profileHosts({ ...selfHosted, dataUrl: 'HTTP://127.0.0.1:8102/' }),
      'http://127.0.0.1:8101, market data http://127.0.0.1:8102',
    );
    assert.equal(
      profileHosts({ id: 'fx', broker: 'oanda', environment: 'practice' }),
      'https://api-fxpractice.oanda.com',
    );
    assert.equal(profileDataEndpoint({ id: 'fx', broker: 'oanda', environment: 'practice' }), undefined);
  });

  it('a custom baseUrl without dataUrl stays listed, but cannot connect: the message names dataUrl and Alpaca’s data host', () => {
    const { profiles, problems } = parseProfileList([
      { id: 'alp', broker: 'alpaca', baseUrl: 'http://127.0.0.1:8101' },
    ]);
    assert.deepEqual(problems, []);
    const listed = profiles.find((p) => p.id === 'alp');
    assert.ok(listed);
    const problem = profileConnectProblem(listed);
    assert.match(problem ?? '', /baseUrl points Alpaca's trading API at http:\/\/127\.0\.0\.1:8101/);
    assert.match(problem ?? '', /data\.alpaca\.markets with your keys: add dataUrl/);
    assert.match(problem ?? '', /SPtrader: Edit Broker Profile/);
    assert.equal(profileConnectProblem(selfHosted), undefined);
    assert.equal(profileConnectProblem(alpaca), undefined);
    // createBroker, which every connection goes through, refuses it too, before building anything.
    assert.throws(
      () => createBroker(listed, { clock: { now: Date.now }, credentials: staticCredentials({}) }),
      (e: unknown) => e instanceof BrokerProfileError && e.fields.join() === 'dataUrl' && /add dataUrl/.test(e.message),
    );
  });

  it('bindings of profiles without a custom data host keep the names earlier versions stored under', async () => {
    for (const p of [
      alpaca,
      { ...alpaca, environment: 'live' as const },
      { ...alpaca, baseUrl: 'http://127.0.0.1:8101' },
    ]) {
      const binding = credentialBinding(p);
      assert.equal(bindingDigest(binding), digestBeforeDataUrl(p, binding.endpoint), JSON.stringify(p));
    }
    // Alpaca's own data host named explicitly, in any spelling, is the same binding as none.
    const secrets = new FakeSecrets();
    await storeCredential(secrets, credentialBinding(alpaca), 'alpaca.keyId', 'PKREAL123456');
    for (const dataUrl of [
      'https://data.alpaca.markets',
      'https://DATA.alpaca.markets/',
      'https://data.alpaca.markets:443',
    ]) {
      assert.equal(
        await secretStorageCredentials(secrets, credentialBinding({ ...alpaca, dataUrl })).get('alpaca.keyId'),
        'PKREAL123456',
        dataUrl,
      );
    }
  });

  it('a custom data host is part of the binding: keys stored for another data host (or none) are never sent to it', async () => {
    const secrets = new FakeSecrets();
    const tradingOnly = { ...alpaca, baseUrl: selfHosted.baseUrl };
    await storeCredential(secrets, credentialBinding(alpaca), 'alpaca.keyId', 'PKREAL123456');
    await storeCredential(secrets, credentialBinding(tradingOnly), 'alpaca.keyId', 'PKOLD0000001');
    await storeCredential(secrets, credentialBinding(selfHosted), 'alpaca.keyId', 'PKLOCAL00001');
    const names = new Set(
      [alpaca, tradingOnly, selfHosted].map((p) => secretName(credentialBinding(p), 'alpaca.keyId')),
    );
    assert.equal(names.size, 3);
    assert.equal(
      await secretStorageCredentials(secrets, credentialBinding(selfHosted)).get('alpaca.keyId'),
      'PKLOCAL00001',
    );
    const elsewhere = { ...selfHosted, dataUrl: 'https://data.elsewhere.example' };
    assert.equal(
      await secretStorageCredentials(secrets, credentialBinding(elsewhere), { adoptLegacy: true }).get('alpaca.keyId'),
      undefined,
    );
    assert.notEqual(bindingDigest(credentialBinding(elsewhere)), bindingDigest(credentialBinding(selfHosted)));
  });

  it('prompts and messages name both hosts the keys go to, never a value', async () => {
    const binding = credentialBinding(selfHosted);
    assert.equal(
      describeBinding(binding),
      'profile "alp" (alpaca, paper) at http://127.0.0.1:8101, market data http://127.0.0.1:8102',
    );
    assert.equal(
      describeBinding(credentialBinding(alpaca)),
      'profile "alp" (alpaca, paper) at https://paper-api.alpaca.markets, market data https://data.alpaca.markets',
    );
    const secrets = new FakeSecrets();
    await storeCredential(secrets, binding, 'alpaca.keyId', 'PKLOCAL00001');
    const describe = secretStorageCredentials(secrets, binding).describe('alpaca.secretKey');
    assert.match(describe, /http:\/\/127\.0\.0\.1:8101, market data http:\/\/127\.0\.0\.1:8102/);
    assert.doesNotMatch(describe, /PKLOCAL/);
  });
});
