/**
 * Where a replay CSV's bytes stop being UTF-8, as its row, line and column (csvTable): decoded as they were, each bad
 * byte became U+FFFD, which then read as a cell that was "not a number" or "not an ISO time", nothing said of the
 * encoding.
 */

/** Where a file's text first holds a byte that is no UTF-8: its index in the decoded text (a U+FFFD) and the byte. */
export interface Undecodable {
  at: number;
  byte: number;
}

/**
 * The first U+FFFD in `text` (`bytes` decoded as UTF-8) that stands for bytes that are not UTF-8, not for a U+FFFD
 * the file holds as such (EF BF BD), or undefined when there is none. Every U+FFFD before it is three bytes, so the
 * byte offset is the text's up to there.
 */
export function undecodableIn(bytes: Uint8Array, text: string): Undecodable | undefined {
  let byteAt = 0;
  let charAt = 0;
  for (let i = text.indexOf('\ufffd'); i >= 0; i = text.indexOf('\ufffd', i + 1)) {
    byteAt += Buffer.byteLength(text.slice(charAt, i));
    charAt = i;
    if (bytes[byteAt] === 0xef && bytes[byteAt + 1] === 0xbf && bytes[byteAt + 2] === 0xbd) continue;
    return { at: i, byte: bytes[byteAt] ?? 0 };
  }
  return undefined;
}

/**
 * The error for a byte that is not UTF-8, naming its line, row and column: decoded, it was U+FFFD, and a price
 * `1.1\xFF` was "not a number", a time "not an ISO time", with nothing said of the encoding.
 */
export function describeUndecodable(
  text: string,
  label: string,
  separator: string,
  names: readonly string[],
  // The column names of the table (`ColumnName` in replayTables.ts, which imports this file).
  index: ReadonlyMap<string, number>,
  lineNumbers: { data: Uint32Array; length: number },
  headerLine: number,
  bad: Undecodable,
): { message: string; row?: number; column?: string } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bad.at; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || (ch === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  // The field the byte is in, counting separators outside double quotes.
  let field = 0;
  let fieldStart = lineStart;
  let quoted = false;
  for (let i = lineStart; i < bad.at; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === separator && !quoted) {
      field++;
      fieldStart = i + 1;
    }
  }
  const name = (names[field] ?? '').trim();
  const column = [...index].find(([, i]) => i === field)?.[0];
  // The field's text as written, without its opening quote.
  let from = fieldStart;
  while (text[from] === ' ') from++;
  if (text[from] === '"' && from < bad.at) from++;
  const before = text.slice(Math.max(from, bad.at - 40), bad.at);
  const shown = `${JSON.stringify(before).slice(0, -1)}\\x${bad.byte.toString(16).toUpperCase().padStart(2, '0')}"`;
  let row = -1;
  for (let lo = 0, hi = lineNumbers.length; lo < hi;) {
    const mid = (lo + hi) >>> 1;
    const at = lineNumbers.data[mid] as number;
    if (at === line) row = mid;
    if (at < line) lo = mid + 1;
    else hi = mid;
  }
  // In the header the name itself is what cannot be read: the field is said by its place.
  const inHeader = line === headerLine;
  const where =
    row >= 0
      ? `row ${row + 1} (line ${line}), column ${name === '' ? field + 1 : `'${name}'`}`
      : `${inHeader ? 'the header' : 'line'} (line ${line}), field ${field + 1}`;
  const message = `${label}: ${where}: the byte 0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')} in ${shown} is not UTF-8; replay data is UTF-8 text (was the file saved as Latin-1 or Windows-1252? save it as "CSV UTF-8")`;
  if (row < 0) return { message };
  const named = column ?? (name === '' ? undefined : name);
  return { message, row: row + 1, ...(named === undefined ? {} : { column: named }) };
}
