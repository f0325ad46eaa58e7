/**
 * A panel restored after a window reload shows what its page saved (`setState`): the page wrote that view, so
 * the component it names and how it ran ("execute-paper") are the page's word. Run again from such a view asks
 * the person first; a page that saved another file and posted "runAgain" itself ran any Python file on disk.
 */
import { editor, fakeLog, FakeWebviewPanel, Uri, type FakeLog } from './vscodeFake';
import assert from 'node:assert/strict';
import type { TestOrderOutcome } from '../../../src/usecases/testOrder';
import { ResultPanel } from '../../../src/views/resultPanel';
import { resultViewOf } from '../../../src/views/resultView';
import type { ResultView } from '../../../src/views/protocol';
import { RESULT_PANEL_TYPE } from '../../../src/constants';

const outcome = {
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
} as TestOrderOutcome;

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
type Log = ConstructorParameters<typeof ResultPanel>[2];
const asLog = (log: FakeLog): Log => log as unknown as Log;
const extensionUri = Uri.file('/ext') as unknown as ConstructorParameters<typeof ResultPanel>[0];

describe('a panel restored after a reload: its view is the page’s word', () => {
  beforeEach(() => editor.reset());

  it('Run again on a restored view asks first, naming the file; a page posting runAgain alone runs nothing', async () => {
    const runs: ResultView[] = [];
    const panel = new ResultPanel(
      extensionUri,
      { runAgain: (view) => void runs.push(view), sampleQuote: async () => undefined },
      asLog(fakeLog()),
    );
    try {
      const saved = { ...resultViewOf(outcome, { kind: 'execute-paper', ranAt: 1, quotes: [] }), file: '/tmp/evil.py' };
      const serializer = editor.serializers.get(RESULT_PANEL_TYPE);
      assert.ok(serializer, 'the panel registered its serializer');
      const page = new FakeWebviewPanel(RESULT_PANEL_TYPE, 'restored');
      await serializer.deserializeWebviewPanel(page, { result: saved });
      page.fromPage({ type: 'ready' });
      const asked: string[] = [];
      editor.answer = (message) => (asked.push(message), undefined);
      page.fromPage({ type: 'runAgain' });
      await settle();
      await settle();
      assert.equal(runs.length, 0, 'nothing ran without the person');
      assert.equal(asked.length, 1);
      assert.match(asked[0] ?? '', /\/tmp\/evil\.py/);
      assert.match(asked[0] ?? '', /restored/);
      // The person says yes: it runs, once.
      editor.answer = (message, items) => (asked.push(message), items[0]);
      page.fromPage({ type: 'runAgain' });
      await settle();
      await settle();
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.file, '/tmp/evil.py');
      // A view this window ran itself runs again without asking.
      panel.show(resultViewOf(outcome, { kind: 'execute-paper', ranAt: 2, quotes: [] }));
      asked.length = 0;
      page.fromPage({ type: 'runAgain' });
      await settle();
      assert.equal(runs.length, 2);
      assert.equal(asked.length, 0);
    } finally {
      panel.dispose();
    }
  });
});
