/** The Add/Edit Broker Profile steps' checks, as each step's input box shows them while the user types. */
import './vscodeFake';
import assert from 'node:assert/strict';
import { parseBrokerProfile } from '../../../src/brokers/registry';
import { fieldProblem, runProfileWizard } from '../../../src/views/profileWizard';
import { editor, type FakeQuickInput } from './vscodeFake';

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

/**
 * Alpaca's stock quote feed (the profile's `dataFeed`: iex, sip, delayed_sip): asked of Alpaca profiles only, last,
 * counted in "n/N", iex highlighted unless the profile has one; Back from it returns to the market-data URL.
 */
describe('profile wizard: Alpaca quote feed step', function () {
  this.timeout(5000);
  let failure: Error | undefined;
  afterEach(() => {
    editor.reset();
    const f = failure;
    failure = undefined;
    if (f !== undefined) throw f;
  });

  /** Answers each question in turn (a failed check closes the wizard and fails the test). */
  const script = (...answers: Array<(input: FakeQuickInput) => void>) => {
    editor.onQuickInput = (input) => {
      const next = answers.shift();
      try {
        if (next) next(input);
        else input.hide();
      } catch (e) {
        failure ??= e instanceof Error ? e : new Error(String(e));
        input.hide();
      }
    };
  };
  const shown = (input: FakeQuickInput) => input.placeholder ?? input.prompt ?? '';
  const active = (input: FakeQuickInput) => input.activeItems.map((i) => i.label);

  it('a new Alpaca profile: the feed is step 6/6, iex first, delayed_sip flagged; Back keeps the answers', async () => {
    const feedSteps: FakeQuickInput[] = [];
    script(
      (i) => i.choose('Alpaca'),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => {
        feedSteps.push(i);
        i.back();
      },
      (i) => {
        assert.match(shown(i), /^Market-data URL/);
        assert.equal(i.step, 5);
        i.accept();
      },
      (i) => {
        feedSteps.push(i);
        i.choose('$(warning) delayed_sip');
      },
    );
    const draft = await runProfileWizard(new Set());
    const [first, again] = feedSteps;
    assert.ok(first && again, 'the feed was asked twice');
    assert.equal(shown(first), 'Stock quote feed');
    assert.deepEqual([first.step, first.totalSteps], [6, 6]);
    assert.deepEqual(
      first.items.map((i) => i.label),
      ['iex', 'sip', '$(warning) delayed_sip'],
    );
    assert.deepEqual(active(first), ['iex']);
    assert.match(first.items[2]?.description ?? '', /15 minutes delayed: NOT the live price/);
    assert.ok(first.items.every((i) => (i.description ?? '').length > 0 && !(i.description ?? '').includes('\n')));
    assert.equal(first.buttons.length, 1, 'Back is offered');
    assert.deepEqual([again.step, again.totalSteps], [6, 6]);
    assert.deepEqual(draft, { id: 'alpaca-paper', broker: 'alpaca', environment: 'paper', dataFeed: 'delayed_sip' });
    assert.equal(parseBrokerProfile(draft).dataFeed, 'delayed_sip');
  });

  it('accepting the step as shown gives iex; editing a sip profile starts on sip', async () => {
    script(
      (i) => i.choose('Alpaca'),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
    );
    assert.equal((await runProfileWizard(new Set()))?.dataFeed, 'iex');

    const existing = parseBrokerProfile({ id: 'stocks', broker: 'alpaca', dataFeed: 'sip' });
    let highlighted: string[] = [];
    script(
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => {
        assert.deepEqual([i.step, i.totalSteps], [4, 4]);
        highlighted = active(i);
        i.accept();
      },
    );
    const edited = await runProfileWizard(new Set(['stocks']), existing);
    assert.deepEqual(highlighted, ['sip']);
    assert.equal(edited?.dataFeed, 'sip');
  });

  it('no other venue is asked for a feed: back from it to the venue, OANDA is 4 steps and has none', async () => {
    const back = (i: FakeQuickInput) => i.back();
    script(
      (i) => i.choose('Alpaca'),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => {
        assert.equal(shown(i), 'Stock quote feed');
        i.choose('sip');
      },
    );
    assert.equal((await runProfileWizard(new Set()))?.dataFeed, 'sip');
    editor.reset();
    script(
      (i) => i.choose('Alpaca'),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
      back,
      back,
      back,
      back,
      back,
      (i) => {
        assert.equal(i.step, 1);
        i.choose('OANDA');
      },
      (i) => i.accept(),
      (i) => i.accept(),
      (i) => i.accept(),
    );
    const fx = await runProfileWizard(new Set());
    assert.deepEqual(fx, { id: 'oanda-practice', broker: 'oanda', environment: 'practice' });
    const afterOanda = editor.quickInputs.slice(10);
    assert.ok(afterOanda.every((i) => shown(i) !== 'Stock quote feed'));
    assert.deepEqual(
      afterOanda.map((i) => `${i.step}/${i.totalSteps}`),
      ['1/4', '2/4', '3/4', '4/4'],
    );
  });
});
