/**
 * What a hostile or hurried page can send the result, Compare Venues and replay panels: each message is checked
 * by the panel's zod protocol; a run the page asks for starts once, however many times it is asked before that
 * run ends (a double-click on "Run again" sent a paper or practice order twice); nothing arrives after the
 * panel was closed.
 */
import { editor, fakeLog, Uri, vscode, type FakeLog, type FakeWebviewPanel } from './vscodeFake';
import assert from 'node:assert/strict';
import type { TestOrderOutcome } from '../../../src/usecases/testOrder';
import { ResultPanel } from '../../../src/views/resultPanel';
import { ComparePanel } from '../../../src/views/comparePanel';
import { ReplayPanel } from '../../../src/views/replayPanel';
import { resultViewOf } from '../../../src/views/resultView';
import type { ResultView } from '../../../src/views/protocol';
import type { CompareView } from '../../../src/views/compareProtocol';
import type { ReplayView } from '../../../src/views/replayProtocol';

const outcome: TestOrderOutcome = {
  ok: true,
  exitCode: 0,
  summary: 'FILLED on Paper.',
  component: { file: '/w/c.py', stdout: '', stderr: '', output: null },
  marketData: null,
  order: null,
  response: null,
  slippage: null,
  timings: { componentMs: 1, pythonMs: 2, engineMs: 0.5, venueMs: 0.2, totalMs: 3.7 },
  errors: [],
  notes: [],
  venue: { id: 'paper', environment: 'paper' },
  scratch: false,
  risk: [],
  denial: null,
  events: [],
};
const resultView = (): ResultView => resultViewOf(outcome, { kind: 'execute-paper', ranAt: 1, quotes: [] });

/** A run the test ends when it likes, as a command that is still picking, running, sending. */
function deferred(): { promise: Promise<void>; end: () => void } {
  let end = (): void => undefined;
  const promise = new Promise<void>((resolve) => (end = resolve));
  return { promise, end };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const lastPanel = (): FakeWebviewPanel => {
  const panel = editor.panels[editor.panels.length - 1];
  assert.ok(panel, 'a panel was created');
  return panel;
};
type Log = ConstructorParameters<typeof ResultPanel>[2];
const asLog = (log: FakeLog): Log => log as unknown as Log;
/** The extension's folder, as the editor gives it. */
const extensionUri = Uri.file('/ext') as unknown as ConstructorParameters<typeof ResultPanel>[0];

describe('webview panels: what the page sends the extension', () => {
  beforeEach(() => editor.reset());

  it('a double-click on Run again (two messages before the run ends) runs the component once', async () => {
    const runs: ResultView[] = [];
    let run = deferred();
    const panel = new ResultPanel(
      extensionUri,
      {
        runAgain: (view) => {
          runs.push(view);
          return run.promise;
        },
        sampleQuote: async () => undefined,
      },
      asLog(fakeLog()),
    );
    try {
      panel.show(resultView());
      const page = lastPanel();
      page.fromPage({ type: 'ready' });
      page.fromPage({ type: 'runAgain' });
      page.fromPage({ type: 'runAgain' });
      await settle();
      page.fromPage({ type: 'runAgain' });
      assert.equal(runs.length, 1, 'one run for three requests while it goes');
      run.end();
      await settle();
      // The page's button, disabled at its click, is told no run is going.
      assert.deepEqual(page.posted[page.posted.length - 1], { type: 'running', running: false });
      run = deferred();
      page.fromPage({ type: 'runAgain' });
      assert.equal(runs.length, 2, 'a request after the run ended runs again');
      run.end();
      await settle();
    } finally {
      panel.dispose();
    }
  });

  it('a run that fails to start frees the button and is logged', async () => {
    const log = fakeLog();
    let calls = 0;
    const panel = new ResultPanel(
      extensionUri,
      {
        runAgain: () => {
          calls++;
          return Promise.reject(new Error('the command is not available'));
        },
        sampleQuote: async () => undefined,
      },
      asLog(log),
    );
    try {
      panel.show(resultView());
      const page = lastPanel();
      page.fromPage({ type: 'ready' });
      page.fromPage({ type: 'runAgain' });
      await settle();
      assert.ok(
        log.lines.some((l) => /Run again failed: the command is not available/.test(l)),
        log.lines.join('\n'),
      );
      page.fromPage({ type: 'runAgain' });
      assert.equal(calls, 2);
      await settle();
    } finally {
      panel.dispose();
    }
  });

  it('messages off the protocol are logged and ignored; nothing is run or opened', async () => {
    const log = fakeLog();
    let runs = 0;
    const panel = new ResultPanel(
      extensionUri,
      {
        runAgain: () => void runs++,
        sampleQuote: async () => undefined,
      },
      asLog(log),
    );
    try {
      const page = (() => {
        panel.show(resultView());
        return lastPanel();
      })();
      page.fromPage({ type: 'ready' });
      const hostile: unknown[] = [
        null,
        42,
        'runAgain',
        [],
        {},
        { type: 'RUNAGAIN' },
        { type: ['runAgain'] },
        { type: 'openLocation', file: 7, line: 1 },
        { type: 'openLocation', file: '', line: 1 },
        { type: 'openLocation', file: '/w/c.py', line: '3' },
        { type: 'openLocation', file: '/w/c.py', line: Number.NaN },
        { type: 'openLocation', file: '/w/c.py', line: Number.POSITIVE_INFINITY },
        { type: 'openLocation', file: '/w/c.py', line: -1 },
        { type: 'openLocation', file: '/w/c.py', line: 1e300 },
        { type: 'drawn', ranAt: '1' },
        { type: 'drawn', ranAt: Number.NaN },
        JSON.parse('{"type": "execute", "__proto__": {"type": "runAgain"}}'),
        JSON.parse('{"constructor": {"prototype": {"type": "runAgain"}}}'),
        { type: 'x'.repeat(1_000_000) },
        // Nested past what JSON.stringify can write: the log line threw out of the message handler.
        (() => {
          let deep: unknown = { type: 'runAgain' };
          for (let i = 0; i < 20_000; i++) deep = { type: 'nested', inner: deep };
          return deep;
        })(),
      ];
      for (const message of hostile) page.fromPage(message);
      await settle();
      assert.equal(runs, 0);
      assert.equal(editor.executed.length, 0);
      assert.equal(log.lines.filter((l) => /ignored a message that does not follow the protocol/.test(l)).length, 20);
      assert.ok(
        log.lines.every((l) => l.length < 400),
        'a huge message is not copied into the log whole',
      );
      assert.equal(({} as Record<string, unknown>)['type'], undefined, 'no prototype was polluted');
    } finally {
      panel.dispose();
    }
  });

  it('a message with keys the protocol does not have is off the protocol too (every panel); the exact one works', async () => {
    const log = fakeLog();
    let runs = 0;
    let replays = 0;
    const result = new ResultPanel(
      extensionUri,
      { runAgain: () => void runs++, sampleQuote: async () => undefined },
      asLog(log),
    );
    const compare = new ComparePanel(extensionUri, { runAgain: () => void runs++ }, asLog(log));
    const replay = new ReplayPanel(
      extensionUri,
      { replayAgain: () => void replays++, fillsFile: () => undefined },
      asLog(log),
    );
    try {
      result.show(resultView());
      const resultPage = lastPanel();
      compare.show({ file: '/w/c.py', className: 'C', columns: [] } as unknown as CompareView);
      const comparePage = lastPanel();
      replay.show({ file: '/w/c.py', className: 'C', status: 'COMPLETED' } as unknown as ReplayView);
      const replayPage = lastPanel();
      for (const page of [resultPage, comparePage, replayPage]) page.fromPage({ type: 'ready' });
      const extra = [
        { type: 'runAgain', force: true },
        JSON.parse('{"type": "runAgain", "__proto__": {"polluted": 1}}') as unknown,
        { type: 'openLocation', file: '/w/c.py', line: 1, command: 'rm -rf /' },
        { type: 'drawn', ranAt: 1, extra: 'x'.repeat(100_000) },
      ];
      for (const message of extra) resultPage.fromPage(message);
      for (const message of extra.slice(0, 3)) comparePage.fromPage(message);
      replayPage.fromPage({ type: 'replayAgain', all: true });
      replayPage.fromPage({ type: 'exportFills', format: 'csv', path: '/etc/passwd' });
      await settle();
      assert.equal(runs, 0);
      assert.equal(replays, 0);
      assert.equal(editor.executed.length, 0);
      assert.equal(log.lines.filter((l) => /ignored a message that does not follow the protocol/.test(l)).length, 9);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      resultPage.fromPage({ type: 'runAgain' });
      replayPage.fromPage({ type: 'replayAgain' });
      await settle();
      assert.equal(runs, 1);
      assert.equal(replays, 1);
    } finally {
      result.dispose();
      compare.dispose();
      replay.dispose();
    }
  });

  it('after the panel is closed, its page is heard no more', async () => {
    let runs = 0;
    const panel = new ResultPanel(
      extensionUri,
      { runAgain: () => void runs++, sampleQuote: async () => undefined },
      asLog(fakeLog()),
    );
    try {
      panel.show(resultView());
      const page = lastPanel();
      page.fromPage({ type: 'ready' });
      page.dispose();
      page.fromPage({ type: 'runAgain' });
      await settle();
      assert.equal(runs, 0);
    } finally {
      panel.dispose();
    }
  });

  it('Compare Venues and the replay panel run again once per run as well', async () => {
    const compareRuns: CompareView[] = [];
    const replayRuns: ReplayView[] = [];
    const compareRun = deferred();
    const replayRun = deferred();
    const compare = new ComparePanel(
      extensionUri,
      {
        runAgain: (view) => {
          compareRuns.push(view);
          return compareRun.promise;
        },
      },
      asLog(fakeLog()),
    );
    const replay = new ReplayPanel(
      extensionUri,
      {
        replayAgain: (view) => {
          replayRuns.push(view);
          return replayRun.promise;
        },
        fillsFile: () => undefined,
      },
      asLog(fakeLog()),
    );
    try {
      compare.show({ file: '/w/c.py', className: 'C', columns: [] } as unknown as CompareView);
      const comparePage = lastPanel();
      replay.show({ file: '/w/c.py', className: 'C', status: 'COMPLETED' } as unknown as ReplayView);
      const replayPage = lastPanel();
      for (const page of [comparePage, replayPage]) page.fromPage({ type: 'ready' });
      for (let i = 0; i < 3; i++) {
        comparePage.fromPage({ type: 'runAgain' });
        replayPage.fromPage({ type: 'replayAgain' });
      }
      await settle();
      assert.equal(compareRuns.length, 1);
      assert.equal(replayRuns.length, 1);
      compareRun.end();
      replayRun.end();
      await settle();
    } finally {
      compare.dispose();
      replay.dispose();
    }
  });

  it('Export fills clicked twice opens one save dialog', async () => {
    const dialogs: Array<() => void> = [];
    const saved = vscode.window.showSaveDialog;
    vscode.window.showSaveDialog = () => new Promise<undefined>((resolve) => dialogs.push(() => resolve(undefined)));
    const replay = new ReplayPanel(
      extensionUri,
      { replayAgain: () => undefined, fillsFile: () => '/storage/replays/1/fills.csv' },
      asLog(fakeLog()),
    );
    try {
      replay.show({ file: '/w/c.py', className: 'C', status: 'COMPLETED' } as unknown as ReplayView);
      const page = lastPanel();
      page.fromPage({ type: 'ready' });
      page.fromPage({ type: 'exportFills', format: 'csv' });
      page.fromPage({ type: 'exportFills', format: 'parquet' });
      await settle();
      assert.equal(dialogs.length, 1);
      for (const close of dialogs.splice(0)) close();
      await settle();
      page.fromPage({ type: 'exportFills', format: 'csv' });
      await settle();
      assert.equal(dialogs.length, 1, 'after the first dialog closed, another export may start');
      for (const close of dialogs.splice(0)) close();
      await settle();
    } finally {
      vscode.window.showSaveDialog = saved;
      replay.dispose();
    }
  });
});
