/** What a replay's component printed, as the CLI's summary and the editor's log show it. */
import assert from 'node:assert/strict';
import { replayOutputText } from '../../../src/usecases/replay';

describe('replayOutputText', () => {
  const out = { stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0, truncated: false };

  it('is nothing when the component printed nothing (or only blank lines), or for a report without output', () => {
    assert.equal(replayOutputText(out), undefined);
    assert.equal(replayOutputText({ ...out, stdout: '\n \n' }), undefined);
    assert.equal(replayOutputText(undefined), undefined);
  });

  it('shows each stream under its heading, as Test Order does, with terminal escapes made harmless', () => {
    const text = replayOutputText({ ...out, stdout: 'bar 1\nbar 2\n', stderr: 'warn \u001b]52;c;aGk=\u0007\n' });
    assert.ok(text !== undefined);
    assert.equal(text.split('\n')[0], '--- component stdout ---');
    assert.match(text, /^bar 1\nbar 2$/m);
    assert.match(text, /--- component stderr ---\nwarn /);
    assert.doesNotMatch(text, /\u001b|\u0007/, 'no raw escape reaches a terminal or the log');
  });

  it('says how much was printed when more than the kept head was', () => {
    const text = replayOutputText({ ...out, stdout: 'x', stdoutBytes: 3_000_000, stderrBytes: 12, truncated: true });
    assert.match(text ?? '', /printed 3,000,000 bytes to stdout and 12 to stderr; the first 262,144 of each are kept/);
  });
});
