/** The broker registry: profile validation, construction without connecting, lazy loading, and the support table. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { alpacaRefusal } from '../../../src/brokers/alpaca/orders';
import { unsupportedOnBinance } from '../../../src/brokers/binance/orders';
import { staticCredentials } from '../../../src/brokers/credentials';
import { oandaRefusal } from '../../../src/brokers/oanda/orders';
import {
  BROKER_CAPABILITIES,
  BROKER_KINDS,
  BROKER_SUPPORT,
  BrokerProfileError,
  createBroker,
  parseBrokerProfile,
  supportMarkdown,
  type BrokerKind,
  type BrokerProfileInput,
} from '../../../src/brokers/registry';
import { TestClock } from '../../../src/common/clock';
import { ORDER_TYPE_NAMES, TIME_IN_FORCE_NAMES, type PlacedOrderRequest } from '../../../src/orders/model';

const deps = { clock: new TestClock(), credentials: staticCredentials({}) };

function profileError(input: unknown): BrokerProfileError {
  try {
    parseBrokerProfile(input);
  } catch (e) {
    assert.ok(e instanceof BrokerProfileError, String(e));
    return e;
  }
  assert.fail('expected the profile to be refused');
}

describe('broker registry', () => {
  describe('profiles', () => {
    const cases: Array<[string, unknown, string]> = [
      ['not an object', 'oanda', '(profile)'],
      ['no id', { broker: 'paper' }, 'id'],
      ['an id with a space', { id: 'my venue', broker: 'paper' }, 'id'],
      ['an unknown broker', { id: 'x', broker: 'kraken' }, 'broker'],
      ['an unknown environment', { id: 'x', broker: 'oanda', environment: 'demo' }, 'environment'],
      ['oanda testnet', { id: 'x', broker: 'oanda', environment: 'testnet' }, 'environment'],
      ['alpaca practice', { id: 'x', broker: 'alpaca', environment: 'practice' }, 'environment'],
      ['binance paper', { id: 'x', broker: 'binance', environment: 'paper' }, 'environment'],
      ['paper live', { id: 'x', broker: 'paper', environment: 'live' }, 'environment'],
      ['ib without clientId', { id: 'x', broker: 'ib' }, 'clientId'],
      ['ib with a fractional clientId', { id: 'x', broker: 'ib', clientId: 1.5 }, 'clientId'],
      ['ib with port 0', { id: 'x', broker: 'ib', clientId: 1, port: 0 }, 'port'],
      ['host on oanda', { id: 'x', broker: 'oanda', host: 'localhost' }, 'host'],
      ['baseUrl on ib', { id: 'x', broker: 'ib', clientId: 1, baseUrl: 'https://example.com' }, 'baseUrl'],
      ['plain http off loopback', { id: 'x', broker: 'alpaca', baseUrl: 'http://example.com' }, 'baseUrl'],
      ['a relative baseUrl', { id: 'x', broker: 'binance', baseUrl: '/api' }, 'baseUrl'],
      ['an unknown field', { id: 'x', broker: 'paper', accountNumber: '1' }, 'accountNumber'],
      ['an empty displayName', { id: 'x', broker: 'paper', displayName: '' }, 'displayName'],
      // The URL parser drops the line break: shown as api.example.com, it reached api.example.com.evil.net.
      ['a line break in a URL', { id: 'x', broker: 'oanda', baseUrl: 'https://api.example.com\n.evil.net' }, 'baseUrl'],
      ['a tab in a URL', { id: 'x', broker: 'alpaca', dataUrl: 'https://data.example.com\t.evil.net' }, 'dataUrl'],
      ['a space around a URL', { id: 'x', broker: 'binance', baseUrl: ' https://api.example.com' }, 'baseUrl'],
      [
        'a bidi control in a URL',
        { id: 'x', broker: 'oanda', baseUrl: 'https://\u202eten.live.example.com' },
        'baseUrl',
      ],
      ['a query in a base URL', { id: 'x', broker: 'oanda', baseUrl: 'https://api.example.com/v3?x=1' }, 'baseUrl'],
      ['a fragment in a base URL', { id: 'x', broker: 'oanda', baseUrl: 'https://api.example.com/#a' }, 'baseUrl'],
      [
        'a URL of 3,000 characters',
        { id: 'x', broker: 'oanda', baseUrl: `https://a.com/${'x'.repeat(3000)}` },
        'baseUrl',
      ],
      ['a clientId past 32 bits', { id: 'x', broker: 'ib', clientId: 2 ** 31 }, 'clientId'],
      ['a clientId past 2^53', { id: 'x', broker: 'ib', clientId: 1e20 }, 'clientId'],
      ['a displayName with a line break', { id: 'x', broker: 'paper', displayName: 'Paper\nLIVE' }, 'displayName'],
      ['a displayName with a bidi control', { id: 'x', broker: 'paper', displayName: 'evil\u202eevil' }, 'displayName'],
      ['a displayName of 65 characters', { id: 'x', broker: 'paper', displayName: 'x'.repeat(65) }, 'displayName'],
      ['an id with a slash', { id: '../x', broker: 'paper' }, 'id'],
      ['an id with a control character', { id: 'x\u0000', broker: 'paper' }, 'id'],
      ['an id of 65 characters', { id: 'x'.repeat(65), broker: 'paper' }, 'id'],
    ];
    for (const [what, input, field] of cases) {
      it(`refuses ${what}, naming ${field}`, () => {
        const e = profileError(input);
        assert.ok(e.fields.includes(field), `fields ${JSON.stringify(e.fields)}`);
        assert.ok(e.message.includes(field), e.message);
      });
    }

    it('refuses a user name or password in a URL without printing them, and a host that is not one', () => {
      for (const [input, field] of [
        [{ id: 'x', broker: 'alpaca', baseUrl: 'https://key:s3cr3t@paper-api.alpaca.markets' }, 'baseUrl'],
        [{ id: 'x', broker: 'oanda', baseUrl: 'http://s3cr3t@127.0.0.1:8080' }, 'baseUrl'],
        [{ id: 'x', broker: 'alpaca', dataUrl: 'https://:s3cr3t@data.alpaca.markets' }, 'dataUrl'],
      ] as const) {
        const e = profileError(input);
        assert.deepEqual(e.fields, [field]);
        assert.match(e.message, /must not hold a user name or password/);
        assert.ok(!e.message.includes('s3cr3t'), e.message);
      }
      for (const host of ['127.0.0.1\n', 'tws host', 'http://127.0.0.1', '127.0.0.1/api'])
        assert.deepEqual(profileError({ id: 'x', broker: 'ib', clientId: 1, host }).fields, ['host']);
      for (const host of ['127.0.0.1', 'tws.local', '::1', '[::1]', 'fe80::1%eth0'])
        assert.equal(parseBrokerProfile({ id: 'x', broker: 'ib', clientId: 1, host }).host, host);
    });

    it('an id or an unknown key is named short and escaped, never as is (a terminal escape, a megabyte)', () => {
      const long = profileError({ id: `x\u001b[2J${'y'.repeat(1_000_000)}`, broker: 'paper' });
      assert.ok(long.message.length < 300, `${long.message.length} characters`);
      assert.match(long.message, /^broker profile "x\\u001b\[2Jy+\\u2026" is invalid: id: /);
      const key = profileError(JSON.parse('{"id": "ok", "broker": "paper", "\\u202eevil": 1}'));
      assert.match(key.message, /"\\u202eevil": not a broker profile field/);
      assert.doesNotMatch(long.message + key.message, /[\u001b\u202e]/);
    });

    it('a field of the wrong type says what it takes and what it got, not zod\'s "Invalid input: expected number"', () => {
      for (const [input, message] of [
        [
          { id: 'x', broker: 'ib', clientId: 1, port: '7497' },
          'port: port must be a whole number from 1 to 65535 (TWS paper 7497, IB Gateway paper 4002), not the text "7497"',
        ],
        [
          { id: 'x', broker: 'ib', clientId: '1' },
          'clientId: clientId must be a whole number from 0 to 2147483647, not the text "1"',
        ],
        [
          { id: 'x', broker: 'ib', clientId: 1, host: ['a'] },
          'host: host must be text: a host name or an IP address, not a list',
        ],
        [
          { id: 'x', broker: 'oanda', baseUrl: { url: 'https://a.com' } },
          'baseUrl: baseUrl must be text: an https URL such as https://api.example.com, not an object',
        ],
        [
          { id: 'x', broker: 'paper', displayName: true },
          'displayName: displayName must be text of 1–64 characters, not true',
        ],
        [{ id: 5, broker: 'paper' }, 'id: id must be text: 1–64 letters, digits or . _ -, not 5'],
        [
          { id: 'x', broker: 'ib', clientId: null },
          'clientId: clientId must be a whole number from 0 to 2147483647, not null',
        ],
      ] as const) {
        const e = profileError(input);
        assert.ok(e.message.includes(message), e.message);
        assert.doesNotMatch(e.message, /Invalid input|expected \w+, received/);
      }
    });

    it('a URL with a letter that is not ASCII (a look-alike of a Latin one) is refused, naming it and where', () => {
      // 'https://аpi-fxtrade.oanda.com' with a Cyrillic а: a different host (xn--pi-fxtrade-…), shown as OANDA's.
      for (const [input, field, code, at] of [
        [{ id: 'x', broker: 'oanda', baseUrl: 'https://\u0430pi-fxpractice.oanda.com' }, 'baseUrl', '0430', 9],
        [
          { id: 'x', broker: 'alpaca', baseUrl: 'https://a.com', dataUrl: 'https://d\u0430ta.alpaca.markets' },
          'dataUrl',
          '0430',
          10,
        ],
        [{ id: 'x', broker: 'binance', baseUrl: 'https://api.binance.com/\u00e9' }, 'baseUrl', '00E9', 25],
      ] as const) {
        const e = profileError(input);
        assert.deepEqual(e.fields, [field]);
        assert.ok(
          e.message.includes(
            `${field}: ${field} must be ASCII: it has the character U+${code} at position ${at} (a look-alike of a Latin letter?); write an international domain name in its xn-- form`,
          ),
          e.message,
        );
      }
      assert.equal(
        parseBrokerProfile({ id: 'x', broker: 'oanda', baseUrl: 'https://xn--pi-fxpractice-3ti.oanda.com' }).baseUrl,
        'https://xn--pi-fxpractice-3ti.oanda.com',
      );
    });

    it('names the profile id in the message', () => {
      assert.match(
        profileError({ id: 'tws-main', broker: 'ib' }).message,
        /broker profile "tws-main" is invalid: clientId: ib requires clientId/,
      );
    });

    it('defaults the environment to the safe one, never live; live only when asked', () => {
      const expected: Record<BrokerKind, string> = {
        paper: 'paper',
        oanda: 'practice',
        alpaca: 'paper',
        binance: 'testnet',
        ib: 'paper',
      };
      for (const broker of BROKER_KINDS) {
        const p = parseBrokerProfile({ id: 'p', broker, ...(broker === 'ib' ? { clientId: 3 } : {}) });
        assert.equal(p.environment, expected[broker]);
      }
      assert.equal(parseBrokerProfile({ id: 'p', broker: 'oanda', environment: 'live' }).environment, 'live');
      assert.equal(
        parseBrokerProfile({ id: 'p', broker: 'alpaca', baseUrl: 'http://127.0.0.1:9999' }).baseUrl,
        'http://127.0.0.1:9999',
      );
    });
  });

  describe('profiles pointing where the venue trades real money', () => {
    it('a practice, paper or testnet profile at a live host or a live IB port is refused, naming the field', () => {
      const refused: Array<[unknown, string[], RegExp]> = [
        [
          { id: 'fx', broker: 'oanda', baseUrl: 'https://api-fxtrade.oanda.com' },
          ['baseUrl', 'environment'],
          /oanda's LIVE host api-fxtrade\.oanda\.com, but its environment is practice/,
        ],
        [
          { id: 'eq', broker: 'alpaca', environment: 'paper', baseUrl: 'https://API.alpaca.markets/' },
          ['baseUrl', 'environment'],
          /alpaca's LIVE host api\.alpaca\.markets/,
        ],
        [
          { id: 'eq2', broker: 'alpaca', baseUrl: 'https://api.alpaca.markets../v2' },
          ['baseUrl', 'environment'],
          /alpaca's LIVE host api\.alpaca\.markets,/,
        ],
        [
          { id: 'bn', broker: 'binance', baseUrl: 'https://api-gcp.binance.com.' },
          ['baseUrl', 'environment'],
          /binance's LIVE host api-gcp\.binance\.com, but its environment is testnet/,
        ],
        [
          { id: 'tws', broker: 'ib', clientId: 1, port: 7496 },
          ['port', 'environment'],
          /port 7496 is where TWS or IB Gateway listen for a LIVE session.*\(7497 TWS, 4002 IB Gateway\)/,
        ],
        [
          { id: 'gw', broker: 'ib', clientId: 1, environment: 'paper', port: 4001 },
          ['port', 'environment'],
          /port 4001/,
        ],
      ];
      for (const [input, fields, message] of refused) {
        const e = profileError(input);
        assert.deepEqual(e.fields, fields);
        assert.match(e.message, message);
        assert.match(e.message, /without Execute Live's confirmation/);
      }
    });

    it('the same endpoints on a live profile, and practice endpoints, are taken', () => {
      const taken: unknown[] = [
        { id: 'fx', broker: 'oanda', environment: 'live', baseUrl: 'https://api-fxtrade.oanda.com' },
        { id: 'fx2', broker: 'oanda', baseUrl: 'https://api-fxpractice.oanda.com' },
        { id: 'eq', broker: 'alpaca', baseUrl: 'https://paper-api.alpaca.markets' },
        { id: 'bn', broker: 'binance', baseUrl: 'https://testnet.binance.vision' },
        { id: 'tws', broker: 'ib', clientId: 1, port: 7497 },
        { id: 'tws-live', broker: 'ib', clientId: 1, environment: 'live', port: 7496 },
        { id: 'local', broker: 'oanda', baseUrl: 'http://127.0.0.1:8080' },
      ];
      for (const input of taken) assert.doesNotThrow(() => parseBrokerProfile(input), JSON.stringify(input));
    });
  });

  describe('createBroker', () => {
    const profiles: Record<BrokerKind, BrokerProfileInput> = {
      paper: { id: 'paper', broker: 'paper' },
      oanda: { id: 'oanda-practice', broker: 'oanda' },
      alpaca: { id: 'alpaca-live', broker: 'alpaca', environment: 'live' },
      binance: { id: 'binance-testnet', broker: 'binance', baseUrl: 'http://127.0.0.1:1' },
      ib: { id: 'tws', broker: 'ib', clientId: 7, host: '127.0.0.1', port: 1 },
    };

    for (const kind of BROKER_KINDS) {
      it(`builds ${kind} without connecting, with the venue's capabilities`, () => {
        const broker = createBroker(profiles[kind], deps);
        assert.equal(broker.id, kind);
        assert.equal(broker.isConnected(), false);
        assert.equal(broker.environment, parseBrokerProfile(profiles[kind]).environment);
        assert.deepEqual(broker.capabilities, BROKER_CAPABILITIES[kind]);
      });
    }

    it('applies displayName, and refuses a bad profile before building anything', () => {
      assert.equal(
        createBroker({ id: 'o', broker: 'oanda', displayName: 'OANDA demo' }, deps).displayName,
        'OANDA demo',
      );
      assert.equal(createBroker({ id: 'o', broker: 'oanda', environment: 'live' }, deps).displayName, 'OANDA (live)');
      assert.throws(() => createBroker({ id: 'x', broker: 'ib' }, deps), BrokerProfileError);
    });

    it('keeps the paper account in stateDir, written only once used', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sptrader-registry-'));
      try {
        const broker = createBroker({ id: 'paper', broker: 'paper' }, { ...deps, stateDir: dir });
        const other = createBroker({ id: 'scratch', broker: 'paper' }, { ...deps, stateDir: dir });
        assert.equal(existsSync(join(dir, 'paper-account.json')), false);
        await broker.connect();
        await broker.submitOrder({
          symbol: 'AAPL',
          side: 'buy',
          quantity: 1,
          order_type: { type: 'limit', price: 1 },
          time_in_force: { type: 'GTC' },
          client_order_id: 'reg-1',
          metadata: {},
        } satisfies PlacedOrderRequest);
        await broker.disconnect();
        assert.equal(existsSync(join(dir, 'paper-account.json')), true);
        await other.connect();
        assert.deepEqual(await other.listOpenOrders(), [], 'another paper profile has its own account');
        await other.disconnect();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('loading the registry loads no adapter and no SDK; building one loads its adapter but still no SDK', function () {
      this.timeout(20_000);
      // A fresh process: this one has loaded every adapter and SDK for the other tests.
      const registry = resolve(__dirname, '../../../src/brokers/registry.js');
      const script = `
        const loaded = () => Object.keys(require.cache);
        const r = require(${JSON.stringify(registry)});
        const first = loaded();
        r.createBroker({ id: 'a', broker: 'alpaca' }, { clock: { now: Date.now }, credentials: { get: async () => undefined, describe: (k) => k } });
        r.createBroker({ id: 'b', broker: 'binance' }, { clock: { now: Date.now }, credentials: { get: async () => undefined, describe: (k) => k } });
        r.createBroker({ id: 'i', broker: 'ib', clientId: 1 }, { clock: { now: Date.now }, credentials: { get: async () => undefined, describe: (k) => k } });
        process.stdout.write(JSON.stringify({ first, second: loaded() }));`;
      const { first, second } = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
        first: string[];
        second: string[];
      };
      const sdk = /node_modules[\\/](ccxt|@alpacahq|@stoqey)[\\/]/;
      const adapter = /brokers[\\/](oanda|alpaca|binance|ib)[\\/]adapter\.js$/;
      assert.deepEqual(
        first.filter((f) => sdk.test(f) || adapter.test(f)),
        [],
      );
      assert.deepEqual(
        second.filter((f) => adapter.test(f)).map((f) => f.replace(/.*brokers[\\/]/, '')),
        ['alpaca/adapter.js', 'binance/adapter.js', 'ib/adapter.js'].map((f) => f.replace('/', sep)),
      );
      assert.deepEqual(
        second.filter((f) => sdk.test(f)),
        [],
        'SDKs load on connect() only',
      );
    });
  });

  describe('BROKER_SUPPORT', () => {
    it('has every type × TIF for every broker; paper and IB take them all', () => {
      for (const broker of BROKER_KINDS)
        for (const type of ORDER_TYPE_NAMES)
          for (const tif of TIME_IN_FORCE_NAMES)
            assert.ok(BROKER_SUPPORT[broker][type][tif], `${broker} ${type} ${tif}`);
      for (const broker of ['paper', 'ib'] as const)
        assert.ok(
          ORDER_TYPE_NAMES.every((t) => TIME_IN_FORCE_NAMES.every((tif) => BROKER_SUPPORT[broker][t][tif].supported)),
        );
    });

    it("agrees with each adapter's own pre-send refusal", () => {
      const equity = (
        type: (typeof ORDER_TYPE_NAMES)[number],
        tif: (typeof TIME_IN_FORCE_NAMES)[number],
      ): PlacedOrderRequest => ({
        symbol: 'AAPL',
        side: 'buy',
        quantity: 1,
        order_type:
          type === 'market'
            ? { type }
            : type === 'stop_limit'
              ? { type, stop_price: 10, limit_price: 11 }
              : { type, price: 10 },
        time_in_force: tif === 'GTD' ? { type: tif, expires_at: Date.UTC(2030, 0, 1) } : { type: tif },
        client_order_id: 'x',
        metadata: {},
      });
      for (const type of ORDER_TYPE_NAMES) {
        for (const tif of TIME_IN_FORCE_NAMES) {
          const reasonOf = (broker: BrokerKind) => {
            const cell = BROKER_SUPPORT[broker][type][tif];
            return cell.supported ? undefined : cell.reason;
          };
          assert.equal(reasonOf('oanda'), oandaRefusal(type, tif), `oanda ${type} ${tif}`);
          assert.equal(reasonOf('alpaca'), alpacaRefusal(equity(type, tif)), `alpaca ${type} ${tif}`);
          assert.equal(reasonOf('binance'), unsupportedOnBinance(equity(type, tif)), `binance ${type} ${tif}`);
        }
      }
    });

    it('renders as a Markdown table with numbered reasons', () => {
      const md = supportMarkdown();
      assert.match(md, /^\| broker \| order type \| GTC \| IOC \| FOK \| GTD \|$/m);
      assert.match(md, /^\| oanda \| stop-limit \| ✗ \[\d+\] \| ✗ \[\d+\] \| ✗ \[\d+\] \| ✗ \[\d+\] \|$/m);
      assert.match(md, /^\| ib \| market \| ✓ \| ✓ \| ✓ \| ✓ \|$/m);
      assert.match(md, /^\[1\] /m);
    });
  });
});
