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

  it("a line without a column, on its text: under the order field the message is about, else the line's code without its indentation", () => {
    const ret =
      "        return {'symbol': 'EUR_USD', 'side': 'buy', 'quantity': size, 'order_type': 'market', 'time_in_force': 'IOC'}";
    const under = (path: string | undefined, text: string): string => {
      const at = editorRange({ line: 3, ...(path === undefined ? {} : { path }) }, (n) =>
        n === 2 ? text : undefined,
      )!;
      assert.equal(at.startLine, 2);
      assert.equal(at.endLine, 2);
      return text.slice(at.startCharacter, at.endCharacter);
    };
    assert.equal(under('quantity', ret), "'quantity': size");
    assert.equal(under('time_in_force', ret), "'time_in_force': 'IOC'");
    // A nested path is found by its last name (a flat dict spells order_type.price as 'price').
    assert.equal(
      under('order_type.price', "        return {'price': round(mid * (1 - 0.01), 5), 'side': s}"),
      "'price': round(mid * (1 - 0.01), 5)",
    );
    // Keywords, double quotes, a string holding a comma, a value running to the end of the line.
    assert.equal(under('quantity', '    return OrderRequest(symbol=s, quantity=qty * 2)'), 'quantity=qty * 2');
    assert.equal(under('side', '        return {"side": "buy, sell", "quantity": 1}'), '"side": "buy, sell"');
    // An item assignment is not where a field is spelled as a key: the line's code.
    assert.equal(under('quantity', "        order['quantity'] = -5  # oops"), "order['quantity'] = -5  # oops");
    // Not spelled on the line (or spelled twice): the code of the line, without its indentation or trailing blanks.
    assert.equal(under('quantity', '        return order   '), 'return order');
    assert.equal(
      under('quantity', "        return {'quantity': a} if x else {'quantity': b}"),
      "return {'quantity': a} if x else {'quantity': b}",
    );
    assert.equal(under(undefined, '\treturn None'), 'return None');
    // A comparison is not a keyword argument.
    assert.equal(under('quantity', '        return o if quantity == 0 else p'), 'return o if quantity == 0 else p');
    // A blank line: the whole of it.
    assert.deepEqual(
      editorRange({ line: 1, path: 'quantity' }, () => '    '),
      {
        startLine: 0,
        startCharacter: 0,
        endLine: 0,
        endCharacter: WHOLE_LINE,
      },
    );
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
