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
  at: SourcePosition,
  lineText?: (line: number) => string | undefined,
): EditorRange | undefined {
  if (at.line === undefined || !Number.isInteger(at.line) || at.line < 1) return undefined;
  const startLine = at.line - 1;
  if (at.column === undefined || !Number.isInteger(at.column) || at.column < 1) {
    return { startLine, startCharacter: 0, endLine: startLine, endCharacter: WHOLE_LINE };
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
