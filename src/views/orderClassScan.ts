/**
 * Finds order component classes in Python source without running it: a class whose bases name
 * `OrderBase` or `Order` (plain, dotted as `core.base.order.Order`, or subscripted), or a class defined
 * above it in the same file that does (a leaf under an intermediate class, a mixin beside it). A class
 * left with an `@abstractmethod` undefined (its own, or one a class above it in the file declares) is an
 * intermediate, not a component: the harness would not run it, so it gets no CodeLens.
 * Pure text, no `vscode`, so the CodeLens provider stays thin and this is tested in plain mocha.
 */

export interface OrderClass {
  /** The class name, as the runner's `className` expects it. */
  readonly className: string;
  /** Zero-based line of the `class` keyword. */
  readonly line: number;
  /** The bases as written, trimmed (keyword arguments such as `metaclass=` left out). */
  readonly bases: readonly string[];
}

const ORDER_BASES: ReadonlySet<string> = new Set(['OrderBase', 'Order']);
const CLASS_START = /^(\s*)class\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(|:)/;
const TRIPLE_QUOTE = /"""|'''/g;
const ABSTRACT_METHOD = /^\s*@(?:abc\.)?abstractmethod\b/;
const DEF = /^\s*(?:async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)/;
/** A class header spanning more lines than this is not followed (a guard against unbalanced text). */
const MAX_HEADER_LINES = 20;

const scanned = new WeakMap<object, { version: number; classes: readonly OrderClass[] }>();

/**
 * `findOrderClasses` of an editor's document, read once per version of it: the CodeLenses, the prewarm and
 * the Explorer's SPtrader section all ask when the same editor is shown.
 */
export function orderClassesOf(document: { readonly version: number; getText(): string }): readonly OrderClass[] {
  const known = scanned.get(document);
  if (known?.version === document.version) return known.classes;
  const classes = findOrderClasses(document.getText());
  scanned.set(document, { version: document.version, classes });
  return classes;
}

export function findOrderClasses(text: string): OrderClass[] {
  const lines = text.split(/\r\n|\r|\n/);
  const found: OrderClass[] = [];
  /** Classes of this file that derive the contract's base, directly or through one defined above: their abstract methods. */
  const derived = new Map<string, ReadonlySet<string>>();
  let inString: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (inString !== null) {
      if (line.includes(inString)) inString = stillOpen(line.slice(line.indexOf(inString) + 3), null);
      continue;
    }
    const match = CLASS_START.exec(line);
    if (!match) {
      inString = stillOpen(stripComment(line), null);
      continue;
    }
    const className = match[2] ?? '';
    if (match[3] === ':') continue;
    const header = readHeader(lines, i, line.indexOf('(', match[0].length - 1));
    if (!header) continue;
    const bases = splitBases(header.inside);
    if (bases.some((b) => isOrderBase(b) || derived.has(lastSegment(b)))) {
      const body = readBody(lines, header.endLine, (match[1] ?? '').length);
      const abstract = new Set(body.abstract);
      for (const base of bases)
        for (const name of derived.get(lastSegment(base)) ?? []) if (!body.defined.has(name)) abstract.add(name);
      derived.set(className, abstract);
      if (abstract.size === 0) found.push({ className, line: i, bases });
    }
    i = header.endLine;
  }
  return found;
}

/** Whether a base expression names OrderBase or Order: `Order`, `core.base.order.Order`, `OrderBase[T]`. */
export function isOrderBase(base: string): boolean {
  return ORDER_BASES.has(lastSegment(base));
}

function lastSegment(base: string): string {
  const withoutSubscript = base.replace(/\[.*$/s, '').trim();
  return withoutSubscript.split('.').pop()?.trim() ?? '';
}

/**
 * The methods the body of a class defines (its header ends on `headerEnd`, the `class` keyword is indented by
 * `indent`), and those of them marked @abstractmethod.
 */
function readBody(
  lines: readonly string[],
  headerEnd: number,
  indent: number,
): { defined: Set<string>; abstract: Set<string> } {
  const defined = new Set<string>();
  const abstract = new Set<string>();
  let marked = false;
  for (let i = headerEnd + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (line.length - line.trimStart().length <= indent) break;
    if (ABSTRACT_METHOD.test(line)) marked = true;
    const def = DEF.exec(line);
    if (def?.[1] !== undefined) {
      defined.add(def[1]);
      if (marked) abstract.add(def[1]);
      marked = false;
    }
  }
  return { defined, abstract };
}

/** The text between the parentheses of a class header, which may span lines. */
function readHeader(
  lines: readonly string[],
  start: number,
  openAt: number,
): { inside: string; endLine: number } | undefined {
  let depth = 0;
  let inside = '';
  for (let i = start; i < lines.length && i < start + MAX_HEADER_LINES; i++) {
    const text = stripComment(lines[i] ?? '');
    for (let c = i === start ? openAt : 0; c < text.length; c++) {
      const ch = text[c];
      if (ch === '(' || ch === '[') {
        depth++;
        if (depth === 1 && ch === '(') continue;
      } else if (ch === ')' || ch === ']') {
        depth--;
        if (depth === 0) return { inside, endLine: i };
      }
      inside += ch;
    }
    inside += ' ';
  }
  return undefined;
}

/** Top-level comma split; keyword arguments (`metaclass=ABCMeta`) are not bases. */
function splitBases(inside: string): string[] {
  const bases: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of inside) {
    if (ch === '[' || ch === '(') depth++;
    if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      bases.push(current);
      current = '';
    } else current += ch;
  }
  bases.push(current);
  return bases
    .map((b) => b.trim())
    .filter((b) => b !== '' && !/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(b) && !b.startsWith('*'));
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return line.slice(0, i);
  }
  return line;
}

/** The triple quote left open at the end of `line`, if any (so class-like text in docstrings is skipped). */
function stillOpen(line: string, open: string | null): string | null {
  let state = open;
  for (const m of line.matchAll(TRIPLE_QUOTE)) {
    if (state === null) state = m[0];
    else if (m[0] === state) state = null;
  }
  return state;
}

/** Whether a file is never a component (`test_*.py`, `__init__.py`): what the runner refuses to run. */
export { isNotAComponentFile } from '../python/harnessFiles';
