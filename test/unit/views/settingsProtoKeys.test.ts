/**
 * Settings named like Object's own members (`sptrader.risk.__proto__`, `sptrader.risk.constructor`): each is a key
 * SPtrader does not know, said so by name. `__proto__` used to replace the limits' prototype, its value dropped
 * without a word, and a workspace's `constructor` was called a limit it "would loosen".
 */
import assert from 'node:assert/strict';
import { effectiveLimits, riskSettingsOf, type InspectedSetting } from '../../../src/views/settingsPolicy';

describe('risk settings named like prototype keys', () => {
  it('are unknown settings, reported by name; the limits object keeps its prototype', () => {
    const values = new Map<string, InspectedSetting>([
      ['risk.__proto__', { globalValue: { maxOrderQuantity: 5 } }],
      ['risk.constructor', { workspaceValue: 7 }],
      ['circuitBreaker.__proto__', { globalValue: 3 }],
    ]);
    const effective = effectiveLimits((section, key) => values.get(`${section}.${key}`), {
      risk: ['__proto__', 'constructor'],
      circuitBreaker: ['__proto__'],
    });
    assert.equal(Object.getPrototypeOf(effective.risk), Object.prototype);
    assert.equal(Object.getPrototypeOf(effective.circuitBreaker), Object.prototype);
    assert.deepEqual(
      effective.ignored.map((i) => i.message),
      ['sptrader.risk.constructor = 7 in the workspace settings is ignored: workspaces can set only the known limits.'],
    );
    const { problems, settings } = riskSettingsOf(effective);
    assert.ok(
      problems.includes('sptrader.risk.__proto__ is not a setting SPtrader knows; it is ignored'),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes('sptrader.circuitBreaker.__proto__ is not a setting SPtrader knows; it is ignored'),
      problems.join('\n'),
    );
    assert.ok(settings, 'an unknown key is ignored, not a reason to refuse trading');
  });
});
