/**
 * Parent orders a component may return (issue 15), carried out by the engine as children that each go
 * through validation, risk and the audit log like any order:
 *
 *   {'algo': 'twap', 'symbol', 'side', 'quantity', 'duration_s': 60, 'slices': 6, 'limit_price'?: 1.085}
 *   {'algo': 'iceberg', 'symbol', 'side', 'quantity', 'limit_price': 1.085, 'display_quantity': 1000}
 *   {'algo': 'bracket', 'symbol', 'side', 'quantity', 'entry_price'?: 1.085, 'stop_loss': 1.08, 'take_profit': 1.09}
 *   {'algo': 'trailing_stop', 'symbol', 'side', 'quantity', 'trail_offset': 0.001 | 'trail_bps': 20, 'activation_price'?: 1.09}
 *
 * `side` is the parent's side: for a trailing stop, 'sell' protects a long position (it trails the bid
 * upward and sells when the bid falls back by the trail), 'buy' protects a short.
 */
import { z } from 'zod';
import { editDistance } from '../../orders/normalize';

/** A field's message when it is absent: "is required", not the type it should have had ("must be a number"). */
const missingOr = (what: string, wrong: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${what} is required` : wrong;
const positive = (what: string) =>
  z
    .number({ error: missingOr(what, `${what} must be a number`) })
    .refine((n) => Number.isFinite(n) && n > 0, `${what} must be greater than zero`);
const base = {
  symbol: z.string({ error: () => 'symbol is required, e.g. EUR_USD' }).min(1, 'symbol must not be empty'),
  side: z.enum(['buy', 'sell'], { error: () => "side must be 'buy' or 'sell'" }),
  quantity: positive('quantity'),
};

const Twap = z.strictObject({
  algo: z.literal('twap'),
  ...base,
  duration_s: positive('duration_s'),
  slices: z
    .number({ error: missingOr('slices', 'slices must be a whole number') })
    .int('slices must be a whole number')
    .min(1, 'slices must be at least 1')
    .max(1000, 'slices must be at most 1000'),
  limit_price: positive('limit_price').optional(),
});

const Iceberg = z
  .strictObject({
    algo: z.literal('iceberg'),
    ...base,
    limit_price: positive('limit_price'),
    display_quantity: positive('display_quantity'),
  })
  .refine((s) => s.display_quantity <= s.quantity, {
    path: ['display_quantity'],
    message: 'display_quantity must not exceed quantity',
  });

const Bracket = z
  .strictObject({
    algo: z.literal('bracket'),
    ...base,
    entry_price: positive('entry_price').optional(),
    stop_loss: positive('stop_loss'),
    take_profit: positive('take_profit'),
  })
  .superRefine((s, ctx) => {
    const below = s.side === 'buy' ? 'stop_loss' : 'take_profit';
    const above = s.side === 'buy' ? 'take_profit' : 'stop_loss';
    if (!(s[below] < s[above]))
      ctx.addIssue({
        code: 'custom',
        path: ['stop_loss'],
        message: `for a ${s.side}, ${below} (${s[below]}) must be below ${above} (${s[above]})`,
      });
    if (s.entry_price !== undefined && !(s[below] < s.entry_price && s.entry_price < s[above]))
      ctx.addIssue({
        code: 'custom',
        path: ['entry_price'],
        message: `entry_price ${s.entry_price} must lie between stop_loss and take_profit`,
      });
  });

const Trailing = z
  .strictObject({
    algo: z.literal('trailing_stop'),
    ...base,
    trail_offset: positive('trail_offset').optional(),
    trail_bps: positive('trail_bps').optional(),
    activation_price: positive('activation_price').optional(),
  })
  .refine((s) => (s.trail_offset === undefined) !== (s.trail_bps === undefined), {
    path: ['trail_offset'],
    message: 'give exactly one of trail_offset (a price distance) or trail_bps (basis points)',
  })
  // A sell's stop trails below the price: 10,000 bps (100%) or more puts it at or below zero, where no price reaches
  // it, so the parent worked on and never protected the position.
  .refine((s) => s.side !== 'sell' || s.trail_bps === undefined || s.trail_bps < 10_000, {
    path: ['trail_bps'],
    message:
      'trail_bps must be below 10,000 (100% of the price) for a sell: its stop trails below the price, and this far below it is at or under zero, where no price reaches it',
  });

export const PARENT_ALGOS = ['twap', 'iceberg', 'bracket', 'trailing_stop'] as const;
export type ParentAlgo = (typeof PARENT_ALGOS)[number];

export const ParentSpecSchema = z.discriminatedUnion('algo', [Twap, Iceberg, Bracket, Trailing], {
  error: (i) =>
    `algo ${JSON.stringify((i.input as { algo?: unknown } | undefined)?.algo)} is not a parent order; use one of ${PARENT_ALGOS.join(', ')}`,
});
export type ParentSpec = z.infer<typeof ParentSpecSchema>;

export type SplitParent = { parent: undefined } | { parent: ParentSpec } | { error: { path: string; message: string } };

/** A component's output that is a parent order (it has `algo`), checked; else `{ parent: undefined }`. */
export function splitParent(output: unknown): SplitParent {
  if (typeof output !== 'object' || output === null || Array.isArray(output) || !('algo' in output))
    return { parent: undefined };
  const raw = { ...(output as Record<string, unknown>) };
  // Python ints and floats arrive as numbers; a string side is lower-cased as for plain orders.
  if (typeof raw['side'] === 'string') raw['side'] = raw['side'].trim().toLowerCase();
  // So is an algo's name in other letters or words ('TWAP', 'Bracket', 'trailing-stop'), as an order type's is; one
  // that is none of the algos stays as written for its error.
  if (typeof raw['algo'] === 'string') {
    const word = raw['algo']
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
    if ((PARENT_ALGOS as readonly string[]).includes(word)) raw['algo'] = word;
  }
  const parsed = ParentSpecSchema.safeParse(raw);
  if (parsed.success) return { parent: parsed.data };
  // A field the algo does not have comes first: it is most often the missing field under another name
  // ('duration_seconds' for duration_s), which "duration_s is required" alone would not say.
  const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0];
  const path =
    issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : (issue?.path.map(String).join('.') ?? 'algo');
  const message =
    issue?.code === 'unrecognized_keys'
      ? unknownFields(issue.keys, raw['algo'] as ParentAlgo, raw)
      : (issue?.message ?? 'invalid parent order');
  return { error: { path: path || 'algo', message } };
}

const SHAPES = {
  twap: Twap.shape,
  iceberg: Iceberg.shape,
  bracket: Bracket.shape,
  trailing_stop: Trailing.shape,
} as const;

/**
 * What a trail written in another venue's or platform's words is here: pips are a price distance (trail_offset), a
 * percentage is basis points (trail_bps). Keys are compared lower-cased, without '_', '-' or spaces.
 */
const TRAIL_SPELLINGS: Readonly<Record<string, string>> = {
  trailpips: 'a trail in pips is trail_offset, the price distance (20 pips is 0.0020 on EUR_USD, 0.20 on USD_JPY)',
  trailingpips: 'a trail in pips is trail_offset, the price distance (20 pips is 0.0020 on EUR_USD, 0.20 on USD_JPY)',
  trailpercent: 'a trail in percent is trail_bps, in basis points of the price (1% is 100)',
  trailpct: 'a trail in percent is trail_bps, in basis points of the price (1% is 100)',
  trailingpercent: 'a trail in percent is trail_bps, in basis points of the price (1% is 100)',
  trail: 'the trail is trail_offset (a price distance) or trail_bps (basis points of the price)',
  trailamount: 'a trail amount is trail_offset, the price distance',
  traildistance: 'a trail distance is trail_offset, the price distance',
  trailingdistance: 'a trail distance is trail_offset, the price distance',
  trailingstopdistance: 'a trail distance is trail_offset, the price distance',
  trailingoffset: 'a trail offset is trail_offset, the price distance',
  trailingamount: 'a trail amount is trail_offset, the price distance',
  trailingdelta: "Binance's trailingDelta is trail_bps, in basis points of the price",
};

/**
 * Fields a parent order does not have, said with the fields its algo takes (required first, then optional; a trailing
 * stop's trail as the two it takes exactly one of) and, for a trail written in other words, what it is called here.
 * Nothing of such an order is carried out: the field would otherwise have been dropped, the parent run without it.
 */
function unknownFields(keys: readonly string[], algo: ParentAlgo, given: Readonly<Record<string, unknown>>): string {
  const names = keys.map((k) => `'${k}'`);
  const named = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const shape = SHAPES[algo] as Record<string, z.ZodType>;
  const required = Object.keys(shape).filter((k) => !shape[k]?.safeParse(undefined).success);
  let optional = Object.keys(shape).filter((k) => !required.includes(k));
  const listed = [...required];
  if (algo === 'trailing_stop') {
    listed.push('trail_offset or trail_bps (exactly one)');
    optional = optional.filter((k) => k !== 'trail_offset' && k !== 'trail_bps');
  }
  listed.push(...optional.map((k) => `${k} (optional)`));
  const hints = (algo === 'trailing_stop' ? keys : [])
    .map((k) => TRAIL_SPELLINGS[k.toLowerCase().replace(/[\s_-]/g, '')])
    .filter((h): h is string => h !== undefined);
  // Another key's meaning, where the trail's words above did not say it: among the fields not given.
  const open = Object.keys(shape).filter((k) => k !== 'algo' && !(k in given));
  for (const k of keys) {
    if (algo === 'trailing_stop' && TRAIL_SPELLINGS[k.toLowerCase().replace(/[\s_-]/g, '')] !== undefined) continue;
    const meant = meantField(k, open);
    if (meant !== undefined) hints.push(`'${k}' is ${meant} here`);
  }
  const hint = hints.length > 0 ? `; ${[...new Set(hints)].join('; ')}` : '';
  const a = algo === 'iceberg' ? 'an' : 'a';
  return `${named} ${names.length === 1 ? 'is not a field' : 'are not fields'} of ${a} ${algo} parent order${hint}; ${a} ${algo} parent order takes ${listed.join(', ')}`;
}

const QUANTITY_WORDS: ReadonlySet<string> = new Set(['qty', 'size', 'units', 'amount', 'volume', 'totalquantity']);

/**
 * The field of a parent order a key written another way means: one holds the other ('duration_seconds' and
 * duration_s, 'num_slices' and slices), begins with its first 7 letters ('display_qty') or is two edits from it.
 */
function meantField(key: string, fields: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const k = fold(key);
  if (QUANTITY_WORDS.has(k)) return fields.includes('quantity') ? 'quantity' : undefined;
  if (k.length < 4) return undefined;
  for (const field of fields) {
    const f = fold(field);
    if (editDistance(k, f) <= 2) return field;
  }
  for (const field of fields) {
    const f = fold(field);
    const shorter = k.length < f.length ? k : f;
    const longer = k.length < f.length ? f : k;
    if (shorter.length >= 5 && (longer.startsWith(shorter) || longer.endsWith(shorter))) return field;
    let same = 0;
    while (same < shorter.length && k[same] === f[same]) same++;
    if (same >= 7) return field;
  }
  return undefined;
}
