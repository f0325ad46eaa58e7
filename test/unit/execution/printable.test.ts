/**
 * What a component printed, shown in a terminal or an output channel (`printable`): every character that moves the
 * cursor, reorders text or hides itself is written as its escape, and ordinary text (tabs, line ends, accents,
 * emoji) is kept as it is.
 */
import assert from 'node:assert/strict';
import { printable } from '../../../src/usecases/formatOutcome';

describe('printable', () => {
  it('escapes controls, bidi overrides, isolates and marks, invisible characters and line separators', () => {
    const cases: Array<[string, string]> = [
      ['\u001b]52;c;ZXZpbA==\u0007', '\\x1b]52;c;ZXZpbA==\\x07'],
      ['price\rFAKE', 'price\\rFAKE'],
      ['abc\u202edcb', 'abc\\u202edcb'],
      ['buy\u2066x\u2069', 'buy\\u2066x\\u2069'],
      ['EUR\u200eUSD', 'EUR\\u200eUSD'],
      ['EUR\u200fUSD', 'EUR\\u200fUSD'],
      ['EUR\u061cUSD', 'EUR\\u061cUSD'],
      ['EUR\u200bUSD', 'EUR\\u200bUSD'],
      ['EUR\u2060USD', 'EUR\\u2060USD'],
      ['\ufeffspread', '\\ufeffspread'],
      ['one\u2028two', 'one\\u2028two'],
    ];
    for (const [raw, shown] of cases) assert.equal(printable(raw), shown, JSON.stringify(raw));
  });

  it('keeps ordinary text: tabs, line ends (a Windows one as \\n), accents and emoji with their joiners', () => {
    assert.equal(printable('a\tb\r\nc\n'), 'a\tb\nc\n');
    assert.equal(printable('Zürich 1.08 €, 👨‍💻'), 'Zürich 1.08 €, 👨‍💻');
  });
});
