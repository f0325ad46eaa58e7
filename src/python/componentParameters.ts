/**
 * A component's parameters as its `__metadata__['parameters']` declares them (the component contract:
 * `{<name>: {type, default, min, max, options, description}}`), and the values a user gives checked
 * against them: defaults filled in, each value checked against its type, min/max and options, with a
 * message that names the parameter and what to do. Pure (no editor, no Python): Replay Component uses
 * it today, and Test Order or Execute can reuse it.
 *
 * Declared types are SPtraderB's Python names (`int`, `float`, `str`, `bool`, `list`, `dict`) and their
 * JSON spellings (`integer`, `number`, `string`, `boolean`, `array`, `object`); any other type is kept
 * as `any` (a value is JSON when it parses, else text, and only options are checked).
 */
import { z } from 'zod';

export type ParameterType = 'int' | 'float' | 'str' | 'bool' | 'list' | 'dict' | 'any';

export interface ParameterSpec {
  name: string;
  type: ParameterType;
  /** The type as the metadata spells it ("float", "number", …); null when it says none. */
  declaredType: string | null;
  /** Absent when the metadata gives no default (then the component's own default applies). */
  default?: unknown;
  min?: number;
  max?: number;
  options?: readonly unknown[];
  description?: string;
}

const TYPE_NAMES: Record<string, ParameterType> = {
  int: 'int',
  integer: 'int',
  float: 'float',
  number: 'float',
  double: 'float',
  decimal: 'float',
  str: 'str',
  string: 'str',
  text: 'str',
  bool: 'bool',
  boolean: 'bool',
  list: 'list',
  array: 'list',
  tuple: 'list',
  dict: 'dict',
  object: 'dict',
  mapping: 'dict',
};

const finite = z.number().finite();
const SpecSchema = z.looseObject({
  type: z.string().optional(),
  default: z.unknown().optional(),
  min: finite.nullish(),
  max: finite.nullish(),
  options: z.array(z.unknown()).nullish(),
  description: z.string().nullish(),
});

const where = (name: string, key?: string): string =>
  `__metadata__['parameters']['${name}']${key === undefined ? '' : `['${key}']`}`;

/**
 * The parameters `metadata` declares, in the order it lists them, and what is wrong with the
 * declaration (each problem names the key; a declaration with a problem is still used where it can be).
 */
export function readParameterSpecs(metadata: unknown): { specs: ParameterSpec[]; problems: string[] } {
  const problems: string[] = [];
  if (metadata === null || typeof metadata !== 'object') return { specs: [], problems };
  const raw = (metadata as Record<string, unknown>)['parameters'];
  if (raw === undefined || raw === null) return { specs: [], problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`__metadata__['parameters'] is not a dict of parameters: ignored`);
    return { specs: [], problems };
  }
  const specs: ParameterSpec[] = [];
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const parsed = SpecSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = issue?.path[0];
      problems.push(
        `${where(name, typeof key === 'string' ? key : undefined)}: ${issue?.message ?? 'not a parameter declaration'}; the parameter is taken as text with no checks`,
      );
      specs.push({ name, type: 'any', declaredType: null });
      continue;
    }
    const d = parsed.data;
    const declaredType = d.type ?? null;
    // Own names only: TYPE_NAMES['constructor'] is Object, a "type" under which every value read as nothing.
    const named = declaredType?.toLowerCase() ?? '';
    const type =
      declaredType === null ? inferType(d.default) : Object.hasOwn(TYPE_NAMES, named) ? TYPE_NAMES[named]! : 'any';
    const spec: ParameterSpec = { name, type, declaredType };
    if ('default' in d && d.default !== undefined) spec.default = d.default;
    if (d.min !== undefined && d.min !== null) spec.min = d.min;
    if (d.max !== undefined && d.max !== null) spec.max = d.max;
    if (d.options !== undefined && d.options !== null) spec.options = d.options;
    if (d.description !== undefined && d.description !== null) spec.description = d.description;
    if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max)
      problems.push(`${where(name)}: min ${spec.min} is above max ${spec.max}`);
    if (spec.default !== undefined && spec.default !== null) {
      const problem = checkParameterValue(spec, spec.default);
      if (problem) problems.push(`${where(name, 'default')}: ${problem}`);
    }
    specs.push(spec);
  }
  return { specs, problems };
}

function inferType(value: unknown): ParameterType {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  if (value !== null && typeof value === 'object') return 'dict';
  return 'any';
}

/** What is wrong with `value` for `spec` (a sentence without the parameter's name), or undefined. */
export function checkParameterValue(spec: ParameterSpec, value: unknown): string | undefined {
  if (spec.options !== undefined && spec.options.length > 0) {
    if (!spec.options.some((o) => sameValue(o, value)))
      return `${show(value)} is not one of its options (${spec.options.map(show).join(', ')})`;
    return undefined;
  }
  switch (spec.type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `${show(value)} is not a whole number`;
      break;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${show(value)} is not a number`;
      break;
    case 'str':
      if (typeof value !== 'string') return `${show(value)} is not text`;
      break;
    case 'bool':
      if (typeof value !== 'boolean') return `${show(value)} is not true or false`;
      break;
    case 'list':
      if (!Array.isArray(value)) return `${show(value)} is not a list (write it as JSON: [1, 2])`;
      break;
    case 'dict':
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        return `${show(value)} is not a dict (write it as JSON: {"key": 1})`;
      break;
    case 'any':
      break;
  }
  if (typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min) return `${show(value)} is below its minimum ${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `${show(value)} is above its maximum ${spec.max}`;
  }
  return undefined;
}

/**
 * A value typed by the user, read for `spec`: numbers and booleans in their usual spellings, lists and
 * dicts as JSON, text as it is (an `any` parameter: JSON when it parses, else text); then checked.
 */
export function parseParameterText(
  spec: ParameterSpec,
  text: string,
): { ok: true; value: unknown; note?: string } | { ok: false; message: string } {
  const trimmed = text.trim();
  let value: unknown;
  let note: string | undefined;
  if (spec.options !== undefined && spec.options.length > 0) {
    // An option is chosen by how it is written ("normal", 5, true), whatever its type.
    const option = spec.options.find(
      (o) => show(o) === trimmed || (typeof o === 'string' && (o === text || o === trimmed)),
    );
    // Else a text option written in other letters (SELL for 'sell'), when only one option reads so: the component
    // gets the option as it spells it (it compares with ==), and the note says so.
    const folded = trimmed.toLowerCase();
    const alike =
      option === undefined
        ? spec.options.filter((o) => typeof o === 'string' && o.trim().toLowerCase() === folded)
        : [];
    // Else the value the text means for the declared type, as it reads without options (True or yes for a bool, 2.0
    // or 02 for a number): 'hedge=True' was refused as "not one of its options (true, false)".
    const meant = option === undefined && alike.length === 0 ? typedValue(spec.type, trimmed) : undefined;
    const chosen = meant === undefined ? undefined : spec.options.find((o) => sameValue(o, meant));
    if (alike.length === 1) {
      value = alike[0];
      note = `${spec.name}: "${trimmed}" was read as its option ${show(value)} (as __metadata__ spells it)`;
    } else value = option !== undefined ? option : chosen !== undefined ? chosen : parseLoose(trimmed);
  } else {
    switch (spec.type) {
      case 'int':
      case 'float': {
        const read = decimalNumber(trimmed);
        if (typeof read === 'string')
          return { ok: false, message: `${spec.name}: "${clip(text)}" ${read}${rangeHint(spec)}` };
        value = read;
        break;
      }
      case 'bool': {
        value = typedValue('bool', trimmed);
        if (value === undefined) return { ok: false, message: `${spec.name}: "${clip(text)}" is not true or false` };
        break;
      }
      case 'str':
        value = text;
        break;
      case 'list':
      case 'dict': {
        try {
          value = JSON.parse(trimmed) as unknown;
        } catch {
          return {
            ok: false,
            message: `${spec.name}: "${clip(text)}" is not JSON; write a ${spec.type} as JSON (${spec.type === 'list' ? '[1, 2]' : '{"key": 1}'})`,
          };
        }
        break;
      }
      case 'any':
        value = parseLoose(trimmed);
        break;
    }
  }
  const problem = checkParameterValue(spec, value);
  if (problem) return { ok: false, message: `${spec.name}: ${problem}${rangeHint(spec)}` };
  return note === undefined ? { ok: true, value } : { ok: true, value, note };
}

/** What `text` means for a bool or a number parameter, as parseParameterText reads it without options; else undefined. */
function typedValue(type: ParameterType, text: string): unknown {
  if (type === 'bool') {
    const t = text.toLowerCase();
    return BOOL_WORDS.true.includes(t) ? true : BOOL_WORDS.false.includes(t) ? false : undefined;
  }
  if (type === 'int' || type === 'float') {
    const read = decimalNumber(text);
    return typeof read === 'number' ? read : undefined;
  }
  return undefined;
}

const BOOL_WORDS: { readonly true: readonly string[]; readonly false: readonly string[] } = {
  true: ['true', 'yes', '1', 'on'],
  false: ['false', 'no', '0', 'off'],
};

const DIGITS = String.raw`\d(?:_?\d)*`;
const DECIMAL = new RegExp(String.raw`^[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`);

/**
 * A number written as Python's int() and float() read one: decimal digits (a single `_` between two of them), a point,
 * an exponent. JavaScript's Number() also took `0x10` as 16, `0b11` as 3 and `1__0` as 10, so a size typed in another
 * base went out as a different number than Python would ever have read; such a text is said with its decimal value.
 * The number, or why the text is not one.
 */
function decimalNumber(text: string): number | string {
  if (DECIMAL.test(text)) {
    const n = Number(text.replace(/_/g, ''));
    return Number.isFinite(n) ? n : 'is too large for a number';
  }
  const [, sign = '', base = '', digits = ''] = /^([+-]?)0([xob])([0-9a-f]+(?:_[0-9a-f]+)*)$/i.exec(text) ?? [];
  const value = base === '' ? Number.NaN : Number(`0${base}${digits.replace(/_/g, '')}`);
  if (!Number.isFinite(value)) return 'is not a number';
  const radix = { x: 16, o: 8, b: 2 }[base.toLowerCase() as 'x' | 'o' | 'b'];
  const decimal = `${sign === '-' && value !== 0 ? '-' : ''}${value}`;
  return `is not a decimal number (it is ${decimal} written in base ${radix}): write it in decimal digits, as ${decimal}`;
}

/** A typed value as a message repeats it: a 5,000-digit one is shown by its start and length, not whole. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length.toLocaleString('en-US')} characters)` : text;
}

function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function rangeHint(spec: ParameterSpec): string {
  if (spec.options !== undefined && spec.options.length > 0) return '';
  const parts: string[] = [];
  if (spec.type === 'int') parts.push('a whole number');
  if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
  if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  if (parts.length === 0) return '';
  return `; ${where(spec.name)} asks for ${parts.join(', ')}`;
}

/**
 * The parameters a run gets: each declared default, over it the values given; every value checked.
 * Values for names the metadata does not declare pass unchecked (a component may read more than it
 * declares). A parameter with no default and no value is left out (the component's own default applies).
 */
export function resolveParameters(
  specs: readonly ParameterSpec[],
  given: Readonly<Record<string, unknown>>,
): { ok: true; values: Record<string, unknown> } | { ok: false; problems: Array<{ name: string; message: string }> } {
  const values: Record<string, unknown> = {};
  const problems: Array<{ name: string; message: string }> = [];
  for (const spec of specs) {
    const has = Object.prototype.hasOwnProperty.call(given, spec.name);
    const value = has ? given[spec.name] : spec.default;
    if (value === undefined) continue;
    put(values, spec.name, value);
    // A declared default of None means "none": only values the user gives are checked against the type.
    if (value === null && !has) continue;
    const problem = checkParameterValue(spec, value);
    if (problem)
      problems.push({
        name: spec.name,
        message: `${spec.name}: ${problem}${has ? '' : ` (its default in ${where(spec.name, 'default')})`}`,
      });
  }
  for (const [name, value] of Object.entries(given))
    if (!Object.prototype.hasOwnProperty.call(values, name)) put(values, name, value);
  return problems.length === 0 ? { ok: true, values } : { ok: false, problems };
}

/**
 * `values[name] = value` as an own property whatever the name: assigned, "__proto__" would set the object's
 * prototype (the parameter silently gone), and `in` finds "constructor" on every object.
 */
function put(values: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
}

/** A value as the user would type it back. */
export function formatParameterValue(value: unknown): string {
  return typeof value === 'string' ? value : show(value);
}

/** What a parameter accepts, in a few words: "int, 2 … 200", "one of passive, normal, aggressive". */
export function describeParameter(spec: ParameterSpec): string {
  if (spec.options !== undefined && spec.options.length > 0) return `one of ${spec.options.map(show).join(', ')}`;
  const range =
    spec.min !== undefined && spec.max !== undefined
      ? `, ${spec.min} … ${spec.max}`
      : spec.min !== undefined
        ? `, ≥ ${spec.min}`
        : spec.max !== undefined
          ? `, ≤ ${spec.max}`
          : '';
  return `${spec.declaredType ?? spec.type}${range}`;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON.stringify gives undefined only for functions and symbols, which metadata cannot hold.
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
