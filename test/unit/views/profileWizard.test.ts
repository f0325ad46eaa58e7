/** The Add/Edit Broker Profile steps' checks, as each step's input box shows them while the user types. */
import './vscodeFake';
import assert from 'node:assert/strict';
import { fieldProblem } from '../../../src/views/profileWizard';

describe('profile wizard field checks', () => {
  it("says at the step itself that a practice profile's host or port is the venue's LIVE one", () => {
    assert.match(
      fieldProblem(
        { id: 'fx', broker: 'oanda', environment: 'practice', baseUrl: 'https://API-FXTRADE.oanda.com.' },
        'baseUrl',
      ) ?? '',
      /LIVE host api-fxtrade\.oanda\.com/,
    );
    assert.match(
      fieldProblem(
        { id: 'tws', broker: 'ib', environment: 'paper', host: '127.0.0.1', port: 7496, clientId: 0 },
        'port',
      ) ?? '',
      /port 7496 is where TWS or IB Gateway listen for a LIVE session/,
    );
    assert.equal(
      fieldProblem(
        { id: 'tws', broker: 'ib', environment: 'live', host: '127.0.0.1', port: 7496, clientId: 0 },
        'port',
      ),
      undefined,
    );
    assert.equal(
      fieldProblem(
        { id: 'fx', broker: 'oanda', environment: 'practice', baseUrl: 'https://api-fxpractice.oanda.com' },
        'baseUrl',
      ),
      undefined,
    );
  });

  it('refuses a URL with a password and a host with a space, without echoing the password', () => {
    const problem = fieldProblem(
      { id: 'a', broker: 'alpaca', baseUrl: 'https://k:s3cr3t@paper-api.alpaca.markets' },
      'baseUrl',
    );
    assert.match(problem ?? '', /must not hold a user name or password/);
    assert.ok(!(problem ?? '').includes('s3cr3t'));
    assert.match(
      fieldProblem({ id: 'i', broker: 'ib', host: 'tws host', clientId: 0 }, 'host') ?? '',
      /host name or an IP/,
    );
  });
});
