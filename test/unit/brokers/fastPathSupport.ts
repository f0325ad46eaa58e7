/**
 * Shared pieces of the fast-path differential tests (oanda/alpaca/binance `*FastPath.test.ts`): the
 * hand-written readers beside the zod schemas must give exactly what the schema gives. This file
 * holds the generic part: outcomes to compare, JSON-like values to mutate, and the mutations.
 *
 * The input domain is what the adapters hand these readers: JSON.parse output (own, enumerable,
 * string-keyed properties, possibly an own `__proto__` key), plus the in-memory oddities a JS
 * client may leave in it (undefined values, NaN, ±Infinity, -0, null-prototype objects).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBrokerError } from '../../../src/brokers/errors';

/** What one call did: its value, or how it failed. Compared with deepStrictEqual. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: Record<string, unknown> };

export function outcomeOf(call: () => unknown): Outcome {
  try {
    return { ok: true, value: call() };
  } catch (e) {
    if (isBrokerError(e))
      return { ok: false, error: { name: e.name, reason: e.reason, message: e.message, outcomeUnknown: e.outcomeUnknown, retryable: e.retryable } };
    // Anything else (a TypeError from a reader that tripped over its input) is a failure of its own.
    return { ok: false, error: { thrown: String(e) } };
  }
}

type Box = Record<string | number, unknown>;
export type Path = ReadonlyArray<string | number>;

const isObj = (v: unknown): v is Box => typeof v === 'object' && v !== null;

/** An own, enumerable, writable property, even for `__proto__` (as JSON.parse makes one). */
function defineOwn(target: Box, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy keeping undefined, NaN, -0, own `__proto__` keys and null prototypes. */
export function deepClone<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x: unknown) => deepClone(x)) as T;
  if (isObj(v)) {
    const out: Box = Object.getPrototypeOf(v) === null ? (Object.create(null) as Box) : {};
    for (const k of Object.keys(v)) {
      if (k === '__proto__') defineOwn(out, k, deepClone(v[k]));
      else out[k] = deepClone(v[k]);
    }
    return out as T;
  }
  return v;
}

/**
 * Every position in a value: the root ([]), then each key and index, depth first. With `known`,
 * the inside of a field whose name is not in it (an unknown field's value) is not listed, so
 * mutations land on what the schema reads rather than on arbitrary extras.
 */
export function pathsOf(v: unknown, known?: ReadonlySet<string>, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, known, [...at, i], out));
  else if (isObj(v)) {
    for (const k of Object.keys(v)) {
      if (known === undefined || known.has(k)) pathsOf(v[k], known, [...at, k], out);
      else out.push([...at, k]);
    }
  }
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const k of path) v = (v as Box)[k];
  return v;
}

/** `root` with the value at `path` replaced (the root itself when the path is empty). */
function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  defineOwn(getAt(root, path.slice(0, -1)) as Box, path[path.length - 1] as string | number, value);
  return root;
}

export const MUTATION_KINDS = [
  'delete',
  'replace',
  'tweakString',
  'wrapInArray',
  'objectArrayFlip',
  'nullPrototype',
  'ownProtoKey',
  'addKey',
  'copyOther',
  'retype',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface Mutation {
  kind: MutationKind;
  /** Which position (modulo the number of positions at the time). */
  at: number;
  /** Which other position, for copyOther; which edit and where, for tweakString. */
  from: number;
  /** The key added by addKey. */
  key: string;
  value: unknown;
}

/** Small edits that turn a valid string into a near miss (or another valid one): for regexes, enums, times. */
const STRING_EDITS: ReadonlyArray<(s: string, i: number) => string> = [
  (s) => `${s}.`,
  (s) => `.${s}`,
  (s) => `${s} `,
  (s) => ` ${s}`,
  (s) => `+${s}`,
  (s) => `-${s}`,
  (s) => `${s}e`,
  (s) => `${s}e1`,
  (s) => `${s}0`,
  (s) => `0${s}`,
  (s) => `${s}Z`,
  (s) => `${s}\n`,
  (s) => `${s}.5`,
  (s) => s.toUpperCase(),
  (s) => s.toLowerCase(),
  (s, i) => s.slice(0, i % (s.length + 1)) + s.slice((i % (s.length + 1)) + 1),
  (s, i) => `${s.slice(0, i % (s.length + 1))}x${s.slice(i % (s.length + 1))}`,
  (s, i) => `${s.slice(0, i % (s.length + 1))}.${s.slice(i % (s.length + 1))}`,
  (s, i) => `${s.slice(0, i % (s.length + 1))}-${s.slice(i % (s.length + 1))}`,
  (s) => s.replace(/\./, ''),
  (s) => s.replace(/\.\d*/, '.'),
  (s) => s.replace(/T/, ' '),
  (s) => s.slice(0, 10),
  () => '',
];

/**
 * A deep copy of `valid` with `ops` applied in turn (each picks its position in the value as it then
 * is; `known` as for `pathsOf`).
 */
export function mutate(valid: unknown, ops: readonly Mutation[], known?: ReadonlySet<string>): unknown {
  let root: unknown = deepClone(valid);
  for (const op of ops) {
    const paths = pathsOf(root, known);
    const path = paths[op.at % paths.length] as Path;
    const current = getAt(root, path);
    switch (op.kind) {
      case 'delete': {
        if (path.length === 0) {
          root = undefined;
          break;
        }
        const parent = getAt(root, path.slice(0, -1)) as Box;
        const key = path[path.length - 1] as string | number;
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      }
      case 'replace':
        root = setAt(root, path, deepClone(op.value));
        break;
      case 'tweakString':
        if (typeof current === 'string') {
          const edit = STRING_EDITS[op.from % STRING_EDITS.length] as (s: string, i: number) => string;
          root = setAt(root, path, edit(current, Math.floor(op.from / STRING_EDITS.length)));
        }
        break;
      case 'wrapInArray':
        root = setAt(root, path, [current]);
        break;
      case 'objectArrayFlip':
        if (Array.isArray(current)) root = setAt(root, path, { ...current });
        else if (isObj(current)) root = setAt(root, path, Object.values(current));
        else root = setAt(root, path, {});
        break;
      case 'nullPrototype':
        if (isObj(current) && !Array.isArray(current)) {
          const bare = Object.create(null) as Box;
          for (const k of Object.keys(current)) defineOwn(bare, k, current[k]);
          root = setAt(root, path, bare);
        }
        break;
      case 'ownProtoKey':
        if (isObj(current) && !Array.isArray(current)) defineOwn(current, '__proto__', deepClone(op.value));
        break;
      case 'addKey':
        if (isObj(current) && !Array.isArray(current)) defineOwn(current, op.key, deepClone(op.value));
        break;
      case 'copyOther':
        root = setAt(root, path, deepClone(getAt(root, paths[op.from % paths.length] as Path)));
        break;
      case 'retype':
        if (typeof current === 'string') root = setAt(root, path, Number(current));
        else if (typeof current === 'number' || typeof current === 'boolean') root = setAt(root, path, String(current));
        else if (current === null) root = setAt(root, path, 'null');
        break;
    }
  }
  return root;
}

/**
 * Every single-step variant of `valid`, described: at each position (as `pathsOf` lists them) the
 * value deleted, replaced by each hostile value and each of `words`, edited as a string, wrapped in an
 * array, flipped between object and array, given a null prototype or an own `__proto__` key, and
 * retyped. Exhaustive where the random mutations are sampled: a bad value in a rarely picked field
 * is tried here for sure.
 */
export function* singleStepVariants(valid: unknown, known: ReadonlySet<string>, words: readonly string[]): Generator<[string, unknown]> {
  const paths = pathsOf(valid, known);
  const values = [...NASTY, ...words];
  const op = (kind: MutationKind, at: number, extra: Partial<Mutation> = {}): Mutation => ({ kind, at, from: 0, key: 'extra', value: undefined, ...extra });
  for (let at = 0; at < paths.length; at++) {
    const where = (paths[at] as Path).join('.') || '(root)';
    yield [`delete ${where}`, mutate(valid, [op('delete', at)], known)];
    for (const value of values) yield [`${where} = ${describe(value)}`, mutate(valid, [op('replace', at, { value })], known)];
    for (let e = 0; e < STRING_EDITS.length; e++) {
      // Only the edits that take a position (they have two parameters) differ by it.
      const positions = (STRING_EDITS[e] as (s: string, i: number) => string).length === 2 ? [0, 1, 3] : [0];
      for (const i of positions) yield [`${where} edited (${e}, ${i})`, mutate(valid, [op('tweakString', at, { from: e + i * STRING_EDITS.length })], known)];
    }
    for (const kind of ['wrapInArray', 'objectArrayFlip', 'nullPrototype', 'retype'] as const) yield [`${kind} ${where}`, mutate(valid, [op(kind, at)], known)];
    yield [`own __proto__ key in ${where}`, mutate(valid, [op('ownProtoKey', at, { value: { injected: true } })], known)];
  }
}

function describe(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

/** Values that break readers: wrong types, NaN-like and empty strings, near-decimals, times, enum look-alikes, containers. */
const NASTY: readonly unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  0.1,
  1.5,
  -2.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53,
  2 ** 53 - 1,
  -(2 ** 53),
  1e21,
  1e-7,
  Number.MAX_VALUE,
  '',
  ' ',
  '\u00a0',
  '\ufeff',
  '0',
  '-0',
  '1',
  '-1',
  '007',
  '1.5',
  '1.',
  '.5',
  '+1',
  '1e3',
  '1E-8',
  '0x1F',
  '0b11',
  ' 12 ',
  '12\n',
  '12abc',
  '1_000',
  '１２',
  'NaN',
  'Infinity',
  '-Infinity',
  '-',
  '9'.repeat(400),
  '9007199254740993',
  '2030-01-01T00:00:00.000000000Z',
  '2030-01-01T00:00:00Z',
  '2030-01-01',
  '1893456000.000000000',
  '1893456000',
  'not a time',
  'Z',
  'null',
  'undefined',
  [],
  [1],
  ['1.5'],
  {},
  { id: '1' },
  { price: '1.5' },
];

/** A hostile value: from the list above, the broker's own vocabulary (`words`), or arbitrary. */
export function nastyValue(words: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 3, arbitrary: fc.constantFrom(...words) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
}

/** 1–3 mutations; `keys` are the names addKey uses (the schema's own names, mostly, to shadow or add fields). */
export function mutations(words: readonly string[], keys: readonly string[]): fc.Arbitrary<Mutation[]> {
  const kind = fc.oneof(
    { weight: 6, arbitrary: fc.constant<MutationKind>('replace') },
    { weight: 5, arbitrary: fc.constant<MutationKind>('tweakString') },
    { weight: 3, arbitrary: fc.constant<MutationKind>('delete') },
    { weight: 2, arbitrary: fc.constant<MutationKind>('retype') },
    { weight: 2, arbitrary: fc.constant<MutationKind>('copyOther') },
    { weight: 3, arbitrary: fc.constantFrom<MutationKind>('wrapInArray', 'objectArrayFlip', 'nullPrototype', 'ownProtoKey', 'addKey') },
  );
  const mutation = fc.record({
    kind,
    // Unbiased: fast-check favours small integers, which would aim most mutations at the root and first keys.
    at: fc.noBias(fc.nat()),
    from: fc.noBias(fc.nat()),
    key: fc.constantFrom(...keys, 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'extra'),
    value: nastyValue(words),
  });
  return fc.array(mutation, { minLength: 1, maxLength: 3 });
}

/** Unknown fields a venue may add: realistic names plus random ones, never a schema key (so a valid reply stays valid). */
export function extraFields(names: readonly string[], schemaKeys: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const taken = new Set([...schemaKeys, '__proto__']);
  const key = fc.oneof(fc.constantFrom(...names), fc.stringMatching(/^[a-z][a-zA-Z_]{0,10}$/)).filter((k) => !taken.has(k));
  return fc.dictionary(key, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3, noNullPrototype: true });
}

/** A decimal in a string as these venues write it ("-12.50", "0", "00012.000100"). */
export const decimalText: fc.Arbitrary<string> = fc
  .tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,7}$/), fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }))
  .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}`);

/** RFC 3339 times in the spellings venues use (nanoseconds, milliseconds, none, an offset). */
export const rfc3339Time: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 946_684_800, max: 4_102_444_800 }),
    fc.integer({ min: 0, max: 999_999_999 }),
    fc.constantFrom('nanos', 'millis', 'seconds', 'offset'),
  )
  .map(([seconds, nanos, style]) => {
    const base = new Date(seconds * 1000).toISOString().slice(0, 19);
    const ns = String(nanos).padStart(9, '0');
    if (style === 'nanos') return `${base}.${ns}Z`;
    if (style === 'millis') return `${base}.${ns.slice(0, 3)}Z`;
    if (style === 'seconds') return `${base}Z`;
    return `${base}.${ns.slice(0, 6)}-04:00`;
  });

/** Keeps every value seen for each label, to check afterwards that the generator reached every branch. */
export class Coverage {
  private readonly seen = new Map<string, Set<unknown>>();
  note(label: string, value: unknown): void {
    let set = this.seen.get(label);
    if (!set) this.seen.set(label, (set = new Set()));
    set.add(value);
  }
  /** Records whether `key` is an own key of `o` (both must be seen). */
  presence(label: string, o: object, key: string): void {
    this.note(`${label}.${key} present`, Object.prototype.hasOwnProperty.call(o, key));
  }
  missing(label: string, expected: readonly unknown[]): unknown[] {
    const set = this.seen.get(label) ?? new Set();
    return expected.filter((v) => !set.has(v));
  }
  /** Labels ending in " present" that were not seen both ways. */
  oneSided(): string[] {
    return [...this.seen].filter(([label, set]) => label.endsWith(' present') && set.size < 2).map(([label]) => label);
  }
}

/**
 * The exhaustive check each reader runs: for every single-step variant of generated valid replies, the
 * reader never throws, and whatever it takes itself (anything but undefined, which hands the reply to
 * zod) zod accepts with exactly the same value. Enough variants must be taken for the check to mean much.
 */
export function assertSingleStepAgreement<T>(spec: {
  valid: fc.Arbitrary<T>;
  read: (raw: unknown) => unknown;
  readName: string;
  schema: { safeParse(raw: unknown): { success: true; data: unknown } | { success: false } };
  known: ReadonlySet<string>;
  words: readonly string[];
  seed: number;
  numRuns: number;
}): void {
  let variants = 0;
  let fastTook = 0;
  fc.assert(
    fc.property(spec.valid, (valid) => {
      for (const [what, raw] of singleStepVariants(valid, spec.known, spec.words)) {
        variants++;
        const fast = outcomeOf(() => spec.read(raw));
        assert.ok(fast.ok, `${what}: ${spec.readName} threw instead of returning undefined`);
        // undefined: the caller asks zod, which then decides alone.
        if (fast.value === undefined) continue;
        fastTook++;
        const zod = spec.schema.safeParse(raw);
        assert.ok(zod.success, `${what}: the fast path accepted what zod refuses`);
        assert.deepStrictEqual(fast.value, zod.data, what);
      }
    }),
    { seed: spec.seed, numRuns: spec.numRuns },
  );
  assert.ok(variants > 10_000 && fastTook > 500, `${variants} variants, ${fastTook} taken by the fast path`);
}
