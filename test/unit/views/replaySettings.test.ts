/**
 * `sptrader.replay.maxConsecutiveErrors`: the editor's setting for what `sptrader replay --max-consecutive-errors`
 * sets (records in a row failing the same way that stop a replay; default 1,000, 0: never). Checked as package.json
 * declares it, a bad value refused naming it; and Replay Component runs under it (the editor's replay had no such
 * setting: it always stopped at the default's 1,000).
 */
import { editor, fakeLog, Uri, vscode } from './vscodeFake';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Commands } from '../../../src/constants';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';
import { parseRiskSettings, SettingsError } from '../../../src/usecases/session';
import { EditorSettings } from '../../../src/views/editorSettings';
import { registerReplayCommand } from '../../../src/views/replayCommand';
import type { ReplayView } from '../../../src/views/replayProtocol';
import { readReplaySettings } from '../../../src/views/replaySettings';
import { RunInputsStore, type InputsState } from '../../../src/views/runInputsStore';
import { componentFolder } from '../../kit/componentFolder';

type Log = ConstructorParameters<typeof EditorSettings>[0];
const KEY = 'replay.maxConsecutiveErrors';

describe('sptrader.replay.maxConsecutiveErrors', () => {
  it('is declared in package.json as the CLI flag takes it: a whole number from 0, default 1,000', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      contributes: { configuration: Array<{ properties: Record<string, Record<string, unknown>> }> };
    };
    const declared = pkg.contributes.configuration.find((c) => `sptrader.${KEY}` in c.properties)?.properties[
      `sptrader.${KEY}`
    ];
    assert.ok(declared, 'not in contributes.configuration');
    assert.equal(declared['type'], 'integer');
    assert.equal(declared['default'], 1000);
    assert.equal(declared['minimum'], 0);
    assert.equal(declared['maximum'], 1_000_000_000);
  });

  it('reads unset as 1,000, a whole number (or one written as text) as itself, 0 as never', () => {
    const read = (value: unknown) => readReplaySettings((key) => (key === KEY ? value : undefined));
    assert.deepEqual(read(undefined), { settings: { maxConsecutiveErrors: 1000 } });
    assert.deepEqual(read(null), { settings: { maxConsecutiveErrors: 1000 } });
    assert.deepEqual(read(0), { settings: { maxConsecutiveErrors: 0 } });
    assert.deepEqual(read(25), { settings: { maxConsecutiveErrors: 25 } });
    assert.deepEqual(read(' 50 '), { settings: { maxConsecutiveErrors: 50 } });
    assert.deepEqual(read(1_000_000_000), { settings: { maxConsecutiveErrors: 1_000_000_000 } });
  });

  it('refuses a value that does not fit, naming the setting, what it holds and what it must be', () => {
    for (const [value, shown] of [
      [-1, '-1'],
      [2.5, '2.5'],
      [Number.NaN, 'NaN'],
      [1_000_000_001, '1000000001'],
      ['ten', 'the string "ten"'],
      [true, 'true'],
      [[5], 'a list'],
    ] as const) {
      const read = readReplaySettings((key) => (key === KEY ? value : undefined));
      assert.equal(
        read.problem,
        `sptrader.replay.maxConsecutiveErrors must be a whole number from 0 to 1,000,000,000 (records in a row failing the same way that stop a replay; 0: never stop), not ${shown}; no replay runs until it is fixed`,
        String(value),
      );
    }
  });

  it('EditorSettings: a bad value throws a SettingsError naming it, logged once; the default never takes its place', () => {
    editor.reset();
    const log = fakeLog();
    const settings = new EditorSettings(log as unknown as Log);
    assert.deepEqual(settings.replaySettings(), { maxConsecutiveErrors: 1000 });
    editor.configuration.set(KEY, 3);
    assert.deepEqual(settings.replaySettings(), { maxConsecutiveErrors: 3 });
    editor.configuration.set(KEY, -3);
    for (let i = 0; i < 2; i++)
      assert.throws(
        () => settings.replaySettings(),
        (e: unknown) =>
          e instanceof SettingsError && /^sptrader\.replay\.maxConsecutiveErrors must be /.test(e.message),
      );
    assert.equal(log.lines.filter((l) => l.includes('sptrader.replay.maxConsecutiveErrors')).length, 1);
  });
});

describe('Replay Component under sptrader.replay.maxConsecutiveErrors', function () {
  this.timeout(60_000);
  let options!: RunnerOptions;
  let dir = '';
  const write = componentFolder('replay-setting', 20_000, {
    options: (o) => void (options = o),
    dir: (d) => void (dir = d),
  });
  let storage: string;
  let subscriptions: Array<{ dispose(): void }>;
  let picks = 0;
  const originalPick = vscode.window.showQuickPick;
  const originalInput = vscode.window.showInputBox;

  beforeEach(() => {
    editor.reset();
    storage = mkdtempSync(join(tmpdir(), 'sptrader-replay-setting-'));
    subscriptions = [];
    // The data picker answers with the first data file it lists; the symbol box with EUR_USD.
    picks = 0;
    (vscode.window as { showQuickPick: unknown }).showQuickPick = async (items: Array<{ path?: string }>) => {
      picks++;
      return items.find((i) => i.path !== undefined);
    };
    (vscode.window as { showInputBox: unknown }).showInputBox = async () => 'EUR_USD';
  });
  afterEach(() => {
    vscode.window.showQuickPick = originalPick;
    vscode.window.showInputBox = originalInput;
    for (const d of subscriptions) d.dispose();
    rmSync(storage, { recursive: true, force: true });
  });

  function memento(): InputsState {
    const data = new Map<string, unknown>();
    return {
      get: <T>(key: string) => data.get(key) as T | undefined,
      update: async (key: string, value: unknown) => void data.set(key, value),
    };
  }

  /** Replays a component that raises on every record over 12 candles, through the command, as the editor runs it. */
  async function replay(risk?: () => ReturnType<typeof parseRiskSettings>): Promise<ReplayView | undefined> {
    const file = write(
      'broken.py',
      'from core.orders.order_base import OrderBase\n\nclass Broken(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n' +
        "        raise ValueError('not ready')\n",
    );
    const data = join(dir, 'candles.csv');
    const rows = ['time,open,high,low,close'];
    for (let i = 0; i < 12; i++)
      rows.push(`${new Date(Date.UTC(2024, 0, 2, 0, i)).toISOString()},1.1,1.1002,1.0998,1.1`);
    writeFileSync(data, `${rows.join('\n')}\n`);
    const workspaceState = memento();
    await workspaceState.update('sptrader.replay.recentData', [data]);
    const settings = new EditorSettings(fakeLog() as unknown as Log);
    const services = {
      context: { extensionUri: Uri.file('/ext'), globalStorageUri: Uri.file(storage), workspaceState, subscriptions },
      log: fakeLog(),
      interpreters: { replayWorkerFor: async () => new PythonWorker(options) },
    } as unknown as Parameters<typeof registerReplayCommand>[0];
    registerReplayCommand(
      services,
      risk ?? (() => parseRiskSettings({}, 'defaults')),
      new RunInputsStore(memento()),
      () => settings.replaySettings(),
    );
    const handler = editor.commands.get(Commands.replayComponent) as (...args: unknown[]) => Promise<unknown>;
    return (await handler(Uri.file(file), 'Broken')) as ReplayView | undefined;
  }

  it('3: the replay stops at the third record failing the same way', async () => {
    editor.configuration.set(KEY, 3);
    const view = await replay();
    assert.ok(view, JSON.stringify(editor.toasts));
    assert.equal(view.status, 'STOPPED');
    assert.equal(view.processed, 3);
    assert.match(view.summary, /3 records in a row, #0 .* to #2, failed with the same error, so the replay stopped/);
  });

  it('unset: the default 1,000 does not stop 12 records; 0 never stops', async () => {
    const unset = await replay();
    assert.ok(unset, JSON.stringify(editor.toasts));
    assert.equal(unset.status, 'COMPLETED');
    assert.equal(unset.processed, 12);
    editor.configuration.set(KEY, 0);
    const never = await replay();
    assert.equal(never?.status, 'COMPLETED');
  });

  it('a bad value: nothing is asked or run, and the error names the setting', async () => {
    editor.configuration.set(KEY, 'lots');
    assert.equal(await replay(), undefined);
    assert.equal(picks, 0, 'the data was asked for');
    assert.ok(
      editor.toasts.some(
        (t) =>
          t.level === 'error' &&
          /^SPtrader Replay: sptrader\.replay\.maxConsecutiveErrors must be a whole number from 0 to 1,000,000,000 .*not the string "lots"; no replay runs until it is fixed$/.test(
            t.message,
          ),
      ),
      JSON.stringify(editor.toasts),
    );
  });

  it('invalid risk settings: one notification naming the problem each time, not that and "Replay failed" too', async () => {
    editor.configuration.set('risk.maxOrderQuantity', -5);
    const settings = new EditorSettings(fakeLog() as unknown as Log);
    for (let run = 1; run <= 2; run++) {
      editor.toasts.length = 0;
      assert.equal(await replay(() => settings.riskSettings()), undefined);
      const errors = editor.toasts.filter((t) => t.level === 'error').map((t) => t.message);
      assert.equal(errors.length, 1, `run ${run}: ${errors.join(' | ')}`);
      assert.match(errors[0] ?? '', /maxOrderQuantity/, `run ${run}`);
    }
  });
});
