/** The adapters' once-said warnings: each key is said the first time only, and the memory of them is bounded. */
import assert from 'node:assert/strict';
import { SaidOnce } from '../../../src/brokers/saidOnce';

describe('SaidOnce', () => {
  it('answers true the first time a key is seen and false after, per key', () => {
    const said = new SaidOnce();
    assert.equal(said.first('P-1 EXPIRED_IN_MATCH'), true);
    assert.equal(said.first('P-1 EXPIRED_IN_MATCH'), false);
    assert.equal(said.first('P-2 EXPIRED_IN_MATCH'), true);
  });

  it('starts again past its bound instead of growing for ever', () => {
    const said = new SaidOnce(3);
    for (const k of ['a', 'b', 'c']) assert.equal(said.first(k), true);
    assert.equal(said.first('a'), false);
    // A fourth key: the three are forgotten, so the first may be said once more.
    assert.equal(said.first('d'), true);
    assert.equal(said.first('a'), true);
    assert.equal(said.first('d'), false);
  });
});
