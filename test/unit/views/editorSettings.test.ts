/** The editor's settings read through the editor's API, as the engine gets them. */
import { editor, fakeLog } from './vscodeFake';
import assert from 'node:assert/strict';
import { EditorSettings } from '../../../src/views/editorSettings';

type Log = ConstructorParameters<typeof EditorSettings>[0];

describe('EditorSettings.riskSettings', () => {
  beforeEach(() => editor.reset());

  it('a strict limit stays when another setting is bad; the bad one is named once', () => {
    editor.configuration.set('risk', { maxOrderQuantity: 10 });
    editor.configuration.set('risk.maxOrderQuantity', 10);
    editor.configuration.set('circuitBreaker', { cooldownSeconds: -1 });
    editor.configuration.set('circuitBreaker.cooldownSeconds', -1);
    const log = fakeLog();
    const settings = new EditorSettings(log as unknown as Log);
    const first = settings.riskSettings();
    // Every limit was thrown away for the defaults: this order quantity was 1,000,000.
    assert.equal(first.limits.maxOrderQuantity, 10);
    assert.equal(first.circuitBreaker.cooldownMs, 300_000);
    settings.riskSettings();
    assert.deepEqual(
      editor.toasts.map((t) => [t.level, t.message]),
      [
        [
          'error',
          'SPtrader: sptrader.circuitBreaker.cooldownSeconds = -1 is not valid (Too small: expected number to be >0); its default 300 applies until it is fixed.',
        ],
      ],
    );
  });
});
