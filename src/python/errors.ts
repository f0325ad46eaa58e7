/** Where in a source file a problem is: 1-based line, and 1-based column as Python counts them (code points). */
export interface SourcePosition {
  line?: number;
  /** 1-based column on `line` (a SyntaxError's offset): the column the message names. */
  column?: number;
  /** Where it ends: `endColumn` is 1-based and exclusive (a SyntaxError's end_lineno / end_offset). */
  endLine?: number;
  endColumn?: number;
}

/** A failure to run a component, with a stable code and, where known, the component's file, line and column. */
export class PythonRunError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly endLine: number | undefined;
  readonly endColumn: number | undefined;
  constructor(code: string, message: string, file?: string, line?: number, at?: Omit<SourcePosition, 'line'>) {
    super(message);
    this.name = 'PythonRunError';
    this.code = code;
    this.file = file;
    this.line = line;
    this.column = at?.column;
    this.endLine = at?.column === undefined ? undefined : at.endLine;
    this.endColumn = at?.column === undefined ? undefined : at.endColumn;
  }
}

/** An editor range: 0-based lines and characters (UTF-16 code units), end exclusive, as VS Code's `Range`. */
export interface EditorRange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}

/** The whole of a line, for problems that name a line but no column. */
export const WHOLE_LINE = Number.MAX_SAFE_INTEGER;

/**
 * The editor range of a problem at `at` (a Python position: 1-based line, 1-based code-point columns),
 * so that the squiggle starts at the column the message names: column 27 → character 26. Without a
 * column, the whole line; without a line, undefined (the caller picks one). A column with no end covers
 * one character. `lineText(n)` (0-based) gives a line's text, so that columns past a character outside
 * the Basic Multilingual Plane (an emoji: one code point, two UTF-16 units) land where Python meant;
 * without it columns are taken as they are.
 */
export function editorRange(
  at: SourcePosition & { readonly path?: string | undefined },
  lineText?: (line: number) => string | undefined,
): EditorRange | undefined {
  if (at.line === undefined || !Number.isInteger(at.line) || at.line < 1) return undefined;
  const startLine = at.line - 1;
  if (at.column === undefined || !Number.isInteger(at.column) || at.column < 1) {
    const text = lineText?.(startLine);
    return text === undefined ? wholeLine(startLine) : lineRange(startLine, text, at.path);
  }
  const startCharacter = utf16Column(lineText?.(startLine), at.column - 1);
  let endLine = startLine;
  let endCharacter = startCharacter + 1;
  const { endLine: givenEndLine, endColumn } = at;
  if (
    givenEndLine !== undefined &&
    endColumn !== undefined &&
    Number.isInteger(givenEndLine) &&
    Number.isInteger(endColumn) &&
    endColumn >= 1
  ) {
    const end = { line: givenEndLine - 1, character: utf16Column(lineText?.(givenEndLine - 1), endColumn - 1) };
    if (end.line > startLine || (end.line === startLine && end.character > startCharacter)) {
      endLine = end.line;
      endCharacter = end.character;
    }
  }
  return { startLine, startCharacter, endLine, endCharacter };
}

const wholeLine = (line: number): EditorRange => ({
  startLine: line,
  startCharacter: 0,
  endLine: line,
  endCharacter: WHOLE_LINE,
});

/**
 * A problem that names a line but no column, on the line's text: the order field `path` names where the line spells
 * it (`'quantity': size` in a dict, `quantity=size` as a keyword), so that the squiggle sits under what the message is
 * about; else the line's code without its indentation (a `return` indented eight spaces was squiggled from column 1).
 */
function lineRange(line: number, text: string, path: string | undefined): EditorRange {
  const field = path === undefined ? undefined : fieldSpan(text, path);
  if (field !== undefined) return { startLine: line, startCharacter: field[0], endLine: line, endCharacter: field[1] };
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  return end > start ? { startLine: line, startCharacter: start, endLine: line, endCharacter: end } : wholeLine(line);
}

/**
 * Where `text` spells the field a path names (its last segment first: `order_type.price` is `'price'` in a flat
 * dict), from the key to the end of its value: [start, end) in UTF-16 units, or undefined when the line does not
 * spell it once and plainly.
 */
function fieldSpan(text: string, path: string): [number, number] | undefined {
  for (const name of path.split('.').reverse()) {
    if (!/^[A-Za-z_]\w*$/.test(name)) continue;
    const key = new RegExp(`(['"])${name}\\1\\s*:|\\b${name}\\s*=(?!=)`, 'g');
    const found = [...text.matchAll(key)];
    if (found.length !== 1) continue;
    const match = found[0] as RegExpMatchArray;
    const start = match.index as number;
    const end = valueEnd(text, start + match[0].length);
    if (end > start + match[0].length) return [start, end];
  }
  return undefined;
}

/** The end of a Python expression starting at `from`: the first `,` or unmatched closing bracket outside strings. */
function valueEnd(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  let end = from;
  for (let i = from; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '#') break;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) break;
    if (ch.trim() !== '') end = i + 1;
  }
  return end;
}

/** A 0-based code-point column on `text` as UTF-16 code units (what editors count); the column as it is without the text. */
function utf16Column(text: string | undefined, codePoints: number): number {
  if (text === undefined) return codePoints;
  let units = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen === codePoints) return units;
    units += ch.length;
    seen++;
  }
  // Past the end of the line (Python points just after it for "expected ':'"): the same distance past it.
  return units + (codePoints - seen);
}
