/** Issue 16: where a problem's squiggle goes (the pure part of src/views/diagnostics.ts). */
import assert from 'node:assert/strict';
import { editorRange, WHOLE_LINE } from '../../../src/python/errors';

describe('diagnostic ranges', () => {
  it("starts a syntax error's squiggle at the column its message names (1-based → 0-based)", () => {
    // "syntax error at line 5, column 27": the 27th character is index 26
    assert.deepEqual(editorRange({ line: 5, column: 27 }), {
      startLine: 4,
      startCharacter: 26,
      endLine: 4,
      endCharacter: 27,
    });
    // Python 3.10+: end_offset is 1-based and exclusive, as an editor's end
    assert.deepEqual(editorRange({ line: 1, column: 6, endLine: 1, endColumn: 9 }), {
      startLine: 0,
      startCharacter: 5,
      endLine: 0,
      endCharacter: 8,
    });
    assert.deepEqual(editorRange({ line: 2, column: 3, endLine: 4, endColumn: 1 }), {
      startLine: 1,
      startCharacter: 2,
      endLine: 3,
      endCharacter: 0,
    });
  });

  it('an end that is not after the start covers one character', () => {
    assert.deepEqual(editorRange({ line: 1, column: 5, endLine: 1, endColumn: 5 }), {
      startLine: 0,
      startCharacter: 4,
      endLine: 0,
      endCharacter: 5,
    });
    assert.deepEqual(editorRange({ line: 1, column: 5, endLine: 1, endColumn: 0 }), {
      startLine: 0,
      startCharacter: 4,
      endLine: 0,
      endCharacter: 5,
    });
  });

  it('a line without a column is the whole line; no line is for the caller to place', () => {
    assert.deepEqual(editorRange({ line: 7 }), {
      startLine: 6,
      startCharacter: 0,
      endLine: 6,
      endCharacter: WHOLE_LINE,
    });
    assert.equal(editorRange({}), undefined);
    assert.equal(editorRange({ line: 0 }), undefined);
    assert.equal(editorRange({ column: 3 }), undefined);
  });

  it("counts Python's code points as the editor's UTF-16 units when it has the line", () => {
    const text = 'x = 😀 + (1 2)';
    // Python: the "1" is the 10th code point (column 10); the emoji takes two UTF-16 units
    const at = editorRange({ line: 1, column: 10, endLine: 1, endColumn: 13 }, (n) => (n === 0 ? text : undefined))!;
    assert.equal(text.slice(at.startCharacter, at.endCharacter), '1 2');
    // without the text, columns are taken as they are
    assert.equal(editorRange({ line: 1, column: 10 })!.startCharacter, 9);
    // Python points just past the end of the line for "expected ':'"
    assert.deepEqual(
      editorRange({ line: 1, column: 16 }, () => '    def f(self)'),
      { startLine: 0, startCharacter: 15, endLine: 0, endCharacter: 16 },
    );
  });
});
