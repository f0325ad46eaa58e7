/**
 * The run commands as the editor invokes them (a CodeLens, the palette, another extension): a second request
 * for a run that is still going is refused instead of running the component again and sending its order twice;
 * a request with no component, a component that is not Python, or in an untrusted workspace runs nothing.
 */
import { editor, fakeLog, Uri } from './vscodeFake';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerOrderRunCommands } from '../../../src/views/testOrderCommand';
import { registerReplayCommand } from '../../../src/views/replayCommand';
import { RunInputsStore, type InputsState } from '../../../src/views/runInputsStore';
import { parseRiskSettings } from '../../../src/usecases/session';
import { Commands } from '../../../src/constants';
import { registerCompareCommand } from '../../../src/views/compareCommand';
import { registerExecuteLiveCommand } from '../../../src/views/executeLiveCommand';
import { PAPER_PROFILE } from '../../../src/views/profiles';

type Services = Parameters<typeof registerOrderRunCommands>[0];

/** A Python worker the test hands out when it likes: each request waits for `give`. */
class Workers {
  asked = 0;
  private pending: Array<(e: Error) => void> = [];
  readonly get = (): Promise<never> => {
    this.asked++;
    return new Promise<never>((_resolve, reject) => this.pending.push(reject));
  };
  /** Ends every waiting run: the interpreter cannot start. */
  fail(): void {
    for (const reject of this.pending.splice(0)) reject(new Error('no Python interpreter found (tried python3)'));
  }
}

function memento(): InputsState {
  const data = new Map<string, unknown>();
  return {
    get: <T>(key: string) => data.get(key) as T | undefined,
    update: async (key: string, value: unknown) => void data.set(key, value),
  };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('run commands: requests from the editor', () => {
  let storage: string;
  let subscriptions: Array<{ dispose(): void }>;
  let workers: Workers;
  /** A component file on disk (its content is never run here: the worker is the test's). */
  const component = (name: string): string => {
    const file = join(storage, name);
    writeFileSync(file, 'class Buy: pass\n');
    return file;
  };
  beforeEach(() => {
    editor.reset();
    storage = mkdtempSync(join(tmpdir(), 'sptrader-views-'));
    subscriptions = [];
    workers = new Workers();
  });
  afterEach(() => {
    workers.fail();
    for (const d of subscriptions) d.dispose();
    rmSync(storage, { recursive: true, force: true });
  });

  const services = (): Services =>
    ({
      context: {
        extensionUri: Uri.file('/ext'),
        globalStorageUri: Uri.file(storage),
        workspaceState: memento(),
        subscriptions,
      },
      log: fakeLog(),
      session: { onEngineEvent: () => ({ dispose: () => undefined }), openSession: undefined },
      profiles: { brokers: new Map(), profile: () => undefined },
      paper: { id: 'paper', isConnected: () => false },
      interpreters: { workerFor: workers.get, replayWorkerFor: workers.get },
      parents: { onDidChange: () => ({ dispose: () => undefined }), get: () => undefined },
    }) as unknown as Services;

  const command = (id: string): ((...args: unknown[]) => Promise<unknown>) => {
    const handler = editor.commands.get(id);
    assert.ok(handler, id);
    return handler as (...args: unknown[]) => Promise<unknown>;
  };

  it('Execute on Paper clicked twice while its run goes runs the component once', async () => {
    registerOrderRunCommands(services());
    const file = Uri.file(component('strategy.py'));
    const first = command(Commands.executeOnPaper)(file, 'Buy');
    const second = command(Commands.executeOnPaper)(file, 'Buy');
    await settle();
    assert.equal(await second, undefined);
    assert.equal(workers.asked, 1, 'the second request did not start a run');
    assert.ok(
      editor.toasts.some(
        (t) =>
          t.message ===
          'SPtrader: Execute on Paper of Buy is already running; its result shows in the result panel when it ends.',
      ),
      JSON.stringify(editor.toasts),
    );
    // Another class of the file, or Test Order of it, is another run.
    void command(Commands.executeOnPaper)(file, 'Sell');
    void command(Commands.testOrder)(file, 'Buy');
    await settle();
    assert.equal(workers.asked, 3);
    workers.fail();
    await first;
    // Once it has ended, the same run may start again.
    void command(Commands.executeOnPaper)(file, 'Buy');
    await settle();
    assert.equal(workers.asked, 4);
  });

  it('no component, a file that is not Python or an untrusted workspace: nothing runs, the user is told why', async () => {
    registerOrderRunCommands(services());
    for (const args of [
      [],
      [undefined, 'Buy'],
      [Uri.file('/ws/notes.txt')],
      ['/ws/strategy.py'],
      [{ fsPath: '/ws/a.py' }],
    ])
      assert.equal(await command(Commands.executeOnPaper)(...args), undefined);
    assert.equal(workers.asked, 0);
    assert.equal(
      editor.toasts.filter(
        (t) => t.message === 'Open a Python order component first, then run SPtrader: Execute on Paper.',
      ).length,
      5,
    );
    editor.trusted = false;
    for (const id of [Commands.testOrder, Commands.executeOnPaper, Commands.debugOrder])
      assert.equal(await command(id)(Uri.file(component('strategy.py')), 'Buy'), undefined);
    await settle();
    assert.equal(workers.asked, 0, 'no Python ran in an untrusted workspace');
    assert.equal(editor.toasts.filter((t) => /only in a trusted workspace/.test(t.message)).length, 3);
  });

  it('a component deleted since its CodeLens was drawn, or a folder named .py, runs nothing and says so', async () => {
    registerOrderRunCommands(services());
    const gone = join(storage, 'gone.py');
    const folder = join(storage, 'pkg.py');
    mkdirSync(folder);
    for (const id of [Commands.testOrder, Commands.executeOnPaper, Commands.debugOrder])
      for (const file of [gone, folder]) assert.equal(await command(id)(Uri.file(file), 'Buy'), undefined);
    assert.equal(workers.asked, 0);
    assert.deepEqual(
      editor.toasts.slice(0, 2).map((t) => [t.level, t.message]),
      [
        [
          'error',
          `SPtrader Test Order: ${gone} does not exist (deleted or moved?); open the order component and run Test Order again.`,
        ],
        ['error', `SPtrader Test Order: ${folder} is a folder; open the order component and run Test Order again.`],
      ],
    );
    assert.equal(editor.toasts.length, 6);
  });

  it('Test Order with an active profile that is not an id runs nothing and names the setting', async () => {
    registerOrderRunCommands(services());
    for (const bad of [5, { id: 'practice' }, ['paper'], '   ', true]) {
      editor.toasts.length = 0;
      editor.configuration.set('activeProfile', bad);
      assert.equal(await command(Commands.testOrder)(Uri.file(component('strategy.py')), 'Buy'), undefined);
      assert.equal(workers.asked, 0, JSON.stringify(bad));
      assert.match(
        editor.toasts[0]?.message ?? '',
        /^SPtrader Test Order: sptrader\.activeProfile must be a profile id such as "paper", not .+; choose one with "SPtrader: Select Profile"\. Nothing was run\.$/,
      );
    }
    // Execute on Paper does not use the active profile.
    void command(Commands.executeOnPaper)(Uri.file(component('strategy.py')), 'Buy');
    await settle();
    assert.equal(workers.asked, 1);
  });

  it('Compare Venues asked twice at once compares once', async () => {
    const s = services();
    (s.profiles as unknown as { profiles: () => unknown[] }).profiles = () => [PAPER_PROFILE];
    registerCompareCommand(s);
    const file = Uri.file(component('strategy.py'));
    const first = command(Commands.compareVenues)(file, 'Buy', ['paper']);
    const second = command(Commands.compareVenues)(file, 'Buy', ['paper']);
    await settle();
    assert.equal(await second, undefined);
    assert.equal(workers.asked, 1);
    assert.ok(editor.toasts.some((t) => /Compare Venues of Buy is already running/.test(t.message)));
    workers.fail();
    await first;
    // A venue named twice in the command's argument would get the order twice.
    assert.equal(await command(Commands.compareVenues)(file, 'Buy', ['paper', 'paper']), undefined);
    assert.equal(workers.asked, 1);
    assert.equal(
      editor.toasts[editor.toasts.length - 1]?.message,
      'SPtrader: Compare Venues: the venue "paper" is named twice; each venue is compared once. Nothing was sent.',
    );
  });

  it('Execute Live asked again while one is in progress is refused; live trading off sends nothing', async () => {
    const s = services();
    let enabled = false;
    const live = { id: 'live-1', broker: 'oanda', environment: 'live' };
    Object.assign(s.profiles, { liveEnabled: () => enabled, profiles: () => [PAPER_PROFILE, live] });
    editor.configuration.set('activeProfile', 'live-1');
    registerExecuteLiveCommand(s, {
      show: () => undefined,
      lastResult: () => null,
      onResult: () => ({ dispose: () => undefined }),
    });
    const file = Uri.file(component('strategy.py'));
    assert.equal(await command(Commands.executeLive)(file, 'Buy'), undefined);
    assert.equal(workers.asked, 0);
    assert.match(editor.toasts[0]?.message ?? '', /live trading is off\. Turn on sptrader\.live\.enabled/);
    enabled = true;
    const first = command(Commands.executeLive)(file, 'Buy');
    await settle();
    assert.equal(workers.asked, 1, 'the first is checking its order');
    assert.equal(await command(Commands.executeLive)(file, 'Buy'), undefined);
    assert.equal(await command(Commands.executeLive)(Uri.file(component('other.py')), 'Sell'), undefined);
    assert.equal(workers.asked, 1);
    assert.equal(editor.toasts.filter((t) => /an Execute Live is already in progress/.test(t.message)).length, 2);
    workers.fail();
    assert.equal(await first, undefined);
    assert.ok(editor.toasts.some((t) => /Execute Live failed: no Python interpreter found/.test(t.message)));
  });

  it('remembered replay data, choices and compared venues of the wrong shape read as none, not a crash', async () => {
    for (const damaged of [42, 'recent.csv', { 0: '/a.csv' }, [7, null, {}], null]) {
      editor.reset();
      const s = services();
      const state = s.context.workspaceState;
      await state.update('sptrader.replay.recentData', damaged);
      await state.update('sptrader.replay.lastChoices', damaged);
      await state.update('sptrader.compare.lastVenues', damaged);
      let inspected = 0;
      (s.interpreters as unknown as { replayWorkerFor: unknown }).replayWorkerFor = async () => ({
        inspect: async () => {
          inspected++;
          return { classes: [], metadata: null };
        },
        dispose: async () => undefined,
      });
      (s.profiles as unknown as { profiles: () => unknown[] }).profiles = () => [PAPER_PROFILE];
      registerReplayCommand(
        s,
        () => parseRiskSettings({}, 'defaults'),
        new RunInputsStore(memento()),
        () => ({
          maxConsecutiveErrors: 1000,
        }),
      );
      registerCompareCommand(s);
      const file = Uri.file(component('strategy.py'));
      // The data picker and the venue picker open (and are left by the user): no error.
      assert.equal(await command(Commands.replayComponent)(file, 'Buy'), undefined);
      assert.equal(await command(Commands.compareVenues)(file, 'Buy'), undefined);
      assert.equal(inspected, 1);
      assert.deepEqual(
        editor.toasts.filter((t) => t.level === 'error'),
        [],
        JSON.stringify(damaged),
      );
    }
  });

  it('Replay Component asked twice at once opens one replay', async () => {
    registerReplayCommand(
      services(),
      () => parseRiskSettings({}, 'defaults'),
      new RunInputsStore(memento()),
      () => ({
        maxConsecutiveErrors: 1000,
      }),
    );
    const file = Uri.file(component('strategy.py'));
    const first = command(Commands.replayComponent)(file, 'Buy');
    const second = command(Commands.replayComponent)(file, 'Buy');
    await settle();
    assert.equal(await second, undefined);
    assert.equal(workers.asked, 1);
    assert.ok(
      editor.toasts.some((t) => /a replay is already running/.test(t.message)),
      JSON.stringify(editor.toasts),
    );
    workers.fail();
    await first;
  });
});
