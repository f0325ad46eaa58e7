/**
 * One normaliser for both component dialects users bring (`../shared/spec/components.md`):
 *  - designed: `{symbol, side, order_type, quantity, ...}`, bare or inside the `to_json` envelope
 *    `{type: 'order_request', order: {...}, metadata: {component, version}}`;
 *  - shipped (SPtraderB `Order.execute`): `{type, side, size, symbol, price?, time_in_force?, ...}`.
 * It reports every violation at once, each with the path of the field *as the component wrote it*.
 *
 * Past 450 lines on purpose: one boundary, both dialects turned into one order with every violation
 * reported at once: one walk over the component's output (`normalizeComponentOrder`) and the helpers that
 * word its messages (the closest field name, a value shown safely, a zod issue described).
 */
import { isSecretKey, REDACTED, redactSecretsDeep } from '../common/secrets';
import type { z } from 'zod';
import {
  escapedSymbol,
  freezeValidated,
  OrderRequestSchema,
  symbolProblem,
  plainOrderRequest,
  type MetadataValue,
  type OrderRequest,
  type PlainOrderTypeName,
} from './model';

export type Dialect = 'designed' | 'envelope' | 'shipped';

export interface FieldIssue {
  /** Path in the component's own output, e.g. `order.quantity` or `size`; '' for the whole value. */
  path: string;
  /** What is wrong, with the value and the hint below written in. */
  message: string;
  /** The offending value as the component returned it, shown safely: truncated, secrets redacted. */
  value?: string;
  /** What to do about it, when there is something better to say than the rule. */
  hint?: string;
}

/** The longest a value is shown in a message. */
const MAX_SHOWN_CHARS = 60;

/** A value as a message shows it: JSON-like, None/True/False as Python writes them, NaN by name, cut at MAX_SHOWN_CHARS. */
export function showValue(v: unknown, field?: string): string {
  if (field !== undefined && isSecretKey(field)) return REDACTED;
  let text: string;
  if (v === null) text = 'None';
  else if (v === true) text = 'True';
  else if (v === false) text = 'False';
  else if (v === undefined) text = 'nothing';
  else if (isObject(v) && typeof v[NONFINITE_KEY] === 'string') text = String(v[NONFINITE_KEY]);
  else {
    try {
      text = JSON.stringify(typeof v === 'object' ? redactSecretsDeep(v) : v) ?? typeof v;
    } catch {
      text = typeof v;
    }
  }
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS - 1)}…` : text;
}

/** The name among `names` a mistyped `given` is closest to (at most 2 edits, or a prefix of 3+), if any. */
function closest(given: string, names: readonly string[]): string | undefined {
  const g = given.trim().toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const n = name.toLowerCase();
    const d = g.length >= 3 && n.startsWith(g) ? 1 : editDistance(g, n);
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  return best;
}

/** Edits between a and b (3 for anything past 2), two neighbouring letters swapped ('tpye') counting as one. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    before = previous;
    previous = row;
  }
  return previous[b.length]!;
}

/** What a side written another way means (folded as FIELD_SPELLINGS are): said as a hint, never taken for it. */
const SIDE_WORDS: Record<string, 'buy' | 'sell'> = {
  long: 'buy',
  buytocover: 'buy',
  buytoopen: 'buy',
  buytoclose: 'buy',
  cover: 'buy',
  sellshort: 'sell',
  shortsell: 'sell',
  selltoopen: 'sell',
  selltoclose: 'sell',
  b: 'buy',
  bid: 'buy',
  purchase: 'buy',
  short: 'sell',
  s: 'sell',
  ask: 'sell',
  offer: 'sell',
};
const NONFINITE_HINT = 'check what computes it for a division by zero or a missing input';

export type NormalizeResult =
  | { ok: true; order: OrderRequest; dialect: Dialect; notes: string[] }
  | { ok: false; issues: FieldIssue[]; dialect: Dialect | undefined };

export interface NormalizeOptions {
  /** Current time in ms, to refuse a GTD expiry in the past. */
  now: number;
}

const NONFINITE_KEY = '__sptrader_nonfinite__';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a wrong value is, for "got …": its kind and its value ("a string \"1000\""), or None alone (not "None None"). */
function gotValue(v: unknown, field?: string): string {
  return v === null ? 'None' : `${kindOf(v)} ${showValue(v, field)}`;
}

function kindOf(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a bool';
  return typeof v;
}

const ORDER_TYPE_ALIASES: Record<string, PlainOrderTypeName> = {
  market: 'market',
  mkt: 'market',
  limit: 'limit',
  lmt: 'limit',
  stop: 'stop',
  stop_market: 'stop',
  stoplimit: 'stop_limit',
  stop_limit: 'stop_limit',
  // Interactive Brokers' names (STP, STP LMT) and Binance's (STOP_LOSS, STOP_LOSS_LIMIT): the same orders.
  stp: 'stop',
  stp_lmt: 'stop_limit',
  stop_loss: 'stop',
  stop_loss_limit: 'stop_limit',
};
/**
 * Order types that are parent orders here (the engine carries them out as children): a component writing one as an
 * order_type is told the parent order's form instead of "unknown order type".
 */
const PARENT_ORDER_TYPES: Readonly<Record<string, string>> = {
  trailing_stop: 'trailing_stop',
  trailing: 'trailing_stop',
  trail: 'trailing_stop',
  trailing_stop_loss: 'trailing_stop',
  trailing_stop_market: 'trailing_stop',
  trail_stop: 'trailing_stop',
  trailingstop: 'trailing_stop',
  twap: 'twap',
  iceberg: 'iceberg',
  bracket: 'bracket',
};
/**
 * What an order type's name means ('MKT', 'Stop Limit', 'limit_order', 'bracket'): a single order's type, or the parent
 * order it is; undefined for a name neither is.
 */
export function orderTypeNamed(name: string): string | undefined {
  const spelt = name.trim().toLowerCase().replace(/[-\s]/g, '_');
  const bare = spelt.replace(/_order$/, '');
  return (
    entryOf(ORDER_TYPE_ALIASES, spelt) ??
    entryOf(ORDER_TYPE_ALIASES, bare) ??
    entryOf(PARENT_ORDER_TYPES, spelt) ??
    entryOf(PARENT_ORDER_TYPES, bare)
  );
}
const PARENT_FORMS: Readonly<Record<string, string>> = {
  trailing_stop:
    "{'algo': 'trailing_stop', 'symbol': ..., 'side': ..., 'quantity': ..., 'trail_offset': <a price distance> or 'trail_bps': <basis points>}",
  twap: "{'algo': 'twap', 'symbol': ..., 'side': ..., 'quantity': ..., 'duration_s': ..., 'slices': ...}",
  iceberg:
    "{'algo': 'iceberg', 'symbol': ..., 'side': ..., 'quantity': ..., 'limit_price': ..., 'display_quantity': ...}",
  bracket: "{'algo': 'bracket', 'symbol': ..., 'side': ..., 'quantity': ..., 'stop_loss': ..., 'take_profit': ...}",
};
/**
 * Other spellings of an order's fields, folded (lower case, letters and digits only), that components bring from
 * venues' APIs or habit: each names the field it means (misspeltFields). 'size' is the shipped dialect's quantity.
 */
/** A key as FIELD_SPELLINGS, exitFieldOf and UNSENT_INSTRUCTIONS read it: lower case, letters and digits only. */
const foldKey = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');
/**
 * A table's entry for a word the component wrote, among the table's own keys only: `TABLE['constructor']` is
 * Object's constructor and `TABLE['__proto__']` Object.prototype, which read as a field, a side or an order type.
 */
const entryOf = <T>(table: Readonly<Record<string, T>>, word: string): T | undefined =>
  Object.hasOwn(table, word) ? table[word] : undefined;
const FIELD_SPELLINGS: Readonly<Record<string, string>> = {
  symbol: 'symbol',
  ticker: 'symbol',
  instrument: 'symbol',
  side: 'side',
  direction: 'side',
  quantity: 'quantity',
  qty: 'quantity',
  units: 'quantity',
  amount: 'quantity',
  size: 'quantity',
  volume: 'quantity',
  ordertype: 'order_type',
  timeinforce: 'time_in_force',
  tif: 'time_in_force',
  clientorderid: 'client_order_id',
  limitprice: 'price',
  limit: 'price',
  stopprice: 'stop_price',
  stop: 'stop_price',
  triggerprice: 'stop_price',
  // A GTD order's expiry as venues and habit spell it (expiresAt, OANDA's gtdTime, IB's goodTillDate, …).
  expiresat: 'expires_at',
  expiretime: 'expires_at',
  expireat: 'expires_at',
  expires: 'expires_at',
  expiry: 'expires_at',
  expiration: 'expires_at',
  expirationtime: 'expires_at',
  gtdtime: 'expires_at',
  goodtilldate: 'expires_at',
  goodtilltime: 'expires_at',
  goodtildate: 'expires_at',
  validuntil: 'expires_at',
};
/**
 * The order field a key is a slip of the keyboard for ('time_in_forc', 'quantiy', 'limit_prce', 'ordertpye'), folded
 * as FIELD_SPELLINGS are: one edit from a field of up to 6 letters, two from a longer one (a swap of neighbours is
 * one). Keys under 4 letters are never taken for one: too many words are that close to 'side' or 'size'.
 */
const TYPO_TARGETS: ReadonlyArray<readonly [string, string]> = [
  ['symbol', 'symbol'],
  ['side', 'side'],
  ['quantity', 'quantity'],
  ['size', 'quantity'],
  ['ordertype', 'order_type'],
  ['timeinforce', 'time_in_force'],
  ['clientorderid', 'client_order_id'],
  ['price', 'price'],
  ['limitprice', 'price'],
  ['stopprice', 'stop_price'],
  ['expiresat', 'expires_at'],
];
function typoField(folded: string): string | undefined {
  if (folded.length < 4) return undefined;
  for (const [name, field] of TYPO_TARGETS) if (editDistance(folded, name) <= (name.length <= 6 ? 1 : 2)) return field;
  return undefined;
}

/**
 * A key that attaches an exit to an order, folded as FIELD_SPELLINGS are: stop_loss, sl, stopLossPrice, take_profit,
 * tp_pips, profit_target, OANDA's stopLossOnFill, takeProfitOnFill and trailingStopLossOnFill, Alpaca's dicts.
 */
function exitFieldOf(key: string): 'stop_loss' | 'take_profit' | 'trailing_stop' | undefined {
  const folded = foldKey(key);
  const m =
    /^(trailingstoploss|trailingstop|stoploss|takeprofit|profittarget|sl|tp)(onfill|price|pips|points|ticks|distance|offset|level|pct|percent)?$/.exec(
      folded,
    );
  if (m === null) return undefined;
  const head = m[1] as string;
  if (head.startsWith('trailing')) return 'trailing_stop';
  return head === 'stoploss' || head === 'sl' ? 'stop_loss' : 'take_profit';
}
const REDUCE_ONLY =
  'and could open or add to a position instead of only reducing it; remove it and size the order from the position (an order that closes a position is a plain order on the other side)';
const POST_ONLY =
  'and could take liquidity at once instead of only resting; remove it, and price the limit away from the touch (a buy below the ask, a sell above the bid)';
const DISPLAYED =
  "and would show its whole size; for an order that shows part of its size, return an iceberg parent order: {'algo': 'iceberg', 'symbol': ..., 'side': ..., 'quantity': ..., 'limit_price': ..., 'display_quantity': ...} (README: Parent orders)";
/** Execution instructions, folded as FIELD_SPELLINGS are, that no venue adapter sends: what goes wrong without them. */
const UNSENT_INSTRUCTIONS: Readonly<Record<string, string>> = {
  reduceonly: REDUCE_ONLY,
  closeonly: REDUCE_ONLY,
  postonly: POST_ONLY,
  makeronly: POST_ONLY,
  hidden: DISPLAYED,
  iceberg: DISPLAYED,
  icebergqty: DISPLAYED,
  icebergquantity: DISPLAYED,
  displayqty: DISPLAYED,
  displayquantity: DISPLAYED,
  displaysize: DISPLAYED,
  visibleqty: DISPLAYED,
  visiblequantity: DISPLAYED,
  visiblesize: DISPLAYED,
};
const TIF_NAMES = ['GTC', 'IOC', 'FOK', 'GTD'] as const;
/** A time in force written out in words ('good_till_cancelled', 'Fill or Kill'), folded as FIELD_SPELLINGS are. */
const TIF_WORDS: Readonly<Record<string, string>> = {
  goodtillcancel: 'GTC',
  goodtillcancelled: 'GTC',
  goodtillcanceled: 'GTC',
  goodtilcancel: 'GTC',
  goodtilcancelled: 'GTC',
  goodtilcanceled: 'GTC',
  goodtillcancelling: 'GTC',
  immediateorcancel: 'IOC',
  fillorkill: 'FOK',
  goodtilldate: 'GTD',
  goodtildate: 'GTD',
  goodtilltime: 'GTD',
  goodtiltime: 'GTD',
};
/** Where a GTD order's expiry may be given, beside time_in_force (the first given is read). */
const EXPIRY_FIELDS = ['expires_at', 'expire_time', 'good_till'] as const;
type TifName = (typeof TIF_NAMES)[number];

/** Turns whatever the component returned into a validated `OrderRequest`, or every reason it can't be one. */
export function normalizeComponentOrder(raw: unknown, options: NormalizeOptions): NormalizeResult {
  return plainComponentOrder(raw) ?? normalizeCarefully(raw, options);
}

/** Keys only an order itself has (either dialect), never its envelope. */
const ORDER_KEYS = ['symbol', 'side', 'quantity', 'size', 'order_type'] as const;

/** The keys of the common order, as components write it: a market order, or a limit order with its price. */
const PLAIN_KEYS = new Set(['symbol', 'side', 'order_type', 'quantity', 'time_in_force', 'price']);

/** The fields an order type reads its prices from. */
const PRICE_FIELDS = ['price', 'limit_price', 'stop_price'] as const;

/** An order's own fields, which mean nothing inside its order type. */
const ORDER_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'symbol',
  'side',
  'quantity',
  'size',
  'time_in_force',
  'expires_at',
  'client_order_id',
  'metadata',
]);

function orderTypeFields(kind: PlainOrderTypeName): string {
  switch (kind) {
    case 'market':
      return 'none (a price there is kept as the reference price)';
    case 'limit':
      return "'price' (or 'limit_price')";
    case 'stop':
      return "'stop_price' (or 'price')";
    case 'stop_limit':
      return "'stop_price' and 'limit_price' (or 'price')";
  }
}
const GTC_NOTE = 'time_in_force was not given: GTC (good till cancelled) was used';

/**
 * What normalizeCarefully makes of the order almost every component returns (the designed dialect: a plain dict of
 * symbol, side 'buy' or 'sell', order_type 'market' or 'limit' with a number price, quantity, time_in_force GTC,
 * IOC, FOK or none), made without its walk: a replay normalises every order it submits, and the walk's bookkeeping
 * (paths, field names, consumed keys, closures) cost more than the order. Anything else, or anything the checks
 * refuse, is undefined: the careful path then words it. test/unit/orders/plainOrder.test.ts holds the two equal.
 */
export function plainComponentOrder(raw: unknown): NormalizeResult | undefined {
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) return undefined;
  const body = raw as Json;
  const keys = Object.keys(body);
  for (let i = 0; i < keys.length; i++) if (!PLAIN_KEYS.has(keys[i] as string)) return undefined;
  const symbol = body['symbol'];
  const side = body['side'];
  const quantity = body['quantity'];
  if (typeof symbol !== 'string' || (side !== 'buy' && side !== 'sell') || typeof quantity !== 'number')
    return undefined;
  const type = body['order_type'];
  let orderType: Json;
  if (type === 'market' && !('price' in body)) orderType = { type: 'market' };
  else if (type === 'limit' && typeof body['price'] === 'number') orderType = { type: 'limit', price: body['price'] };
  else return undefined;
  const tif = body['time_in_force'];
  const notes: string[] = [];
  let timeInForce: Json;
  if (tif === undefined || tif === null) {
    timeInForce = { type: 'GTC' };
    notes.push(GTC_NOTE);
  } else if (typeof tif === 'string') {
    const upper = tif.trim().toUpperCase();
    if (upper !== 'GTC' && upper !== 'IOC' && upper !== 'FOK') return undefined;
    timeInForce = { type: upper };
  } else return undefined;
  const candidate: Record<string, unknown> = {
    symbol,
    side,
    order_type: orderType,
    quantity,
    time_in_force: timeInForce,
    metadata: {},
  };
  if (!plainOrderRequest(candidate)) return undefined;
  return { ok: true, order: freezeValidated(candidate as OrderRequest), dialect: 'designed', notes };
}

/** normalizeComponentOrder's walk: every dialect, every field, every violation worded with its path. */
export function normalizeCarefully(raw: unknown, options: NormalizeOptions): NormalizeResult {
  if (!isObject(raw)) {
    return {
      ok: false,
      dialect: undefined,
      issues: [
        {
          path: '',
          message: `the component returned ${kindOf(raw)}${raw === false || raw === 0 || (Array.isArray(raw) && raw.length === 0) ? ` (${JSON.stringify(raw)}); to place no order, return None` : ''}; an order must be a dict such as {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}${Array.isArray(raw) && raw.length > 0 ? ' (one order per call: return the first now and the next on a later call, or a parent order such as a bracket for orders that belong together)' : ''}`,
        },
      ],
    };
  }
  if (Object.keys(raw).length === 0) {
    // Four "is required" lines would hide what happened: most likely the component meant "no order".
    return {
      ok: false,
      dialect: undefined,
      issues: [
        {
          path: '',
          message:
            "the component returned an empty dict; to place no order, return None; an order is a dict such as {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}",
        },
      ],
    };
  }
  let body: Json = raw;
  let prefix = '';
  let dialect: Dialect;
  const notes: string[] = [];
  const metadata: Record<string, MetadataValue> = {};
  if (raw['type'] !== 'order_request' && isObject(raw['order']) && !ORDER_KEYS.some((k) => k in raw)) {
    // An envelope wrapped by hand without its 'type' ({'order': {...}, 'metadata': {...}}): four "is required"
    // lines would not say what is wrong.
    return {
      ok: false,
      dialect: undefined,
      issues: [
        {
          path: 'order',
          message: `the component returned its order inside 'order'${raw['type'] === undefined ? '' : ` with type ${showValue(raw['type'])}`}, which is the to_json envelope only with 'type': 'order_request'; return self.to_json(order), or the order dict itself`,
        },
      ],
    };
  }
  if (raw['type'] === 'order_request' && 'order' in raw) {
    if (!isObject(raw['order'])) {
      return {
        ok: false,
        dialect: 'envelope',
        issues: [
          {
            path: 'order',
            message: `the order_request envelope holds ${kindOf(raw['order'])} in 'order'; expected a dict`,
          },
        ],
      };
    }
    body = raw['order'];
    prefix = 'order.';
    dialect = 'envelope';
    const envelopeMeta = raw['metadata'];
    if (isObject(envelopeMeta)) {
      if (envelopeMeta['component'] !== undefined)
        metadata['component'] = secretFree('component', envelopeMeta['component']);
      if (envelopeMeta['version'] !== undefined)
        metadata['component_version'] = secretFree('version', envelopeMeta['version']);
    }
  } else if (!('order_type' in raw) && ('size' in raw || 'type' in raw)) {
    dialect = 'shipped';
  } else {
    dialect = 'designed';
  }
  const shipped = dialect === 'shipped';
  const issues: FieldIssue[] = [];
  const at = (field: string) => prefix + field;
  // Maps model paths (as zod reports them) back to the component's own field names.
  const origin = new Map<string, string>();
  const consumed = new Set<string>();

  const take = (field: string): unknown => {
    consumed.add(field);
    const v = body[field];
    if (isObject(v) && typeof v[NONFINITE_KEY] === 'string') {
      issues.push(nonFinite(at(field), field, v[NONFINITE_KEY]));
      return NONFINITE;
    }
    return v;
  };

  let symbol = take('symbol');
  origin.set('symbol', at('symbol'));
  if (symbol === undefined) {
    issues.push({ path: at('symbol'), message: `symbol is required, for example 'EUR_USD', 'AAPL' or 'BTCUSDT'` });
    symbol = NONFINITE;
  } else if (typeof symbol === 'string' && symbolProblem(symbol) !== undefined) {
    // A symbol read from a file or a prompt ('EUR_USD\n') is the symbol; a look-alike letter or a control
    // character is said by its code point, escaped, never shown as itself (it would pass for the real one).
    const trimmed = symbol.trim();
    if (trimmed !== symbol && symbolProblem(trimmed) === undefined) {
      notes.push(`symbol ${escapedSymbol(symbol)} was read as '${trimmed}' (the white space around it removed)`);
      symbol = trimmed;
    } else {
      issues.push({ path: at('symbol'), message: symbolProblem(symbol) as string, value: escapedSymbol(symbol) });
      symbol = NONFINITE;
    }
  }

  let side = take('side');
  origin.set('side', at('side'));
  if (typeof side === 'string') {
    const lowered = side.trim().toLowerCase();
    if (lowered === 'buy' || lowered === 'sell') {
      side = lowered;
    } else {
      const meant = entryOf(SIDE_WORDS, foldKey(lowered));
      const hint = meant ? `did you mean '${meant}'?` : undefined;
      issues.push({
        path: at('side'),
        message: `side '${side}' is not valid; use 'buy' or 'sell'${hint ? ` (${hint})` : ''}`,
        value: showValue(side),
        ...(hint ? { hint } : {}),
      });
      side = NONFINITE;
    }
  } else if (side === undefined) {
    issues.push({ path: at('side'), message: `side is required ('buy' or 'sell')` });
    side = NONFINITE;
  } else if (side !== NONFINITE) {
    // A direction as a number (1 / -1, as signals often carry it) or anything else that is not the word.
    const meant = side === 1 ? 'buy' : side === -1 ? 'sell' : undefined;
    const hint = meant ? `did you mean '${meant}'?` : undefined;
    issues.push({
      path: at('side'),
      message: `side must be 'buy' or 'sell', got ${gotValue(side)}${hint ? ` (${hint})` : ''}`,
      value: showValue(side),
      ...(hint ? { hint } : {}),
    });
    side = NONFINITE;
  }

  const quantityField = shipped && 'size' in body ? 'size' : 'quantity';
  let quantity = take(quantityField);
  origin.set('quantity', at(quantityField));
  if (quantity === undefined) {
    issues.push({
      path: at(quantityField),
      message: `${quantityField} is required: how much to buy or sell, greater than zero`,
    });
    quantity = NONFINITE;
  }

  const typeField = shipped ? 'type' : 'order_type';
  const orderType = buildOrderType(take(typeField), typeField);

  const timeInForce = buildTimeInForce();

  const clientOrderId = take('client_order_id');
  origin.set('client_order_id', at('client_order_id'));

  // metadata: the component's own, then the fields the shipped dialect carries besides the order
  const ownMetadata = take('metadata');
  if (isObject(ownMetadata)) {
    for (const [k, v] of Object.entries(ownMetadata))
      if (k === '__proto__') protoKey(`${at('metadata')}.__proto__`);
      else metadata[k] = secretFree(k, v);
  } else if (ownMetadata !== undefined && ownMetadata !== null) {
    issues.push({ path: at('metadata'), message: `metadata must be a dict, got ${kindOf(ownMetadata)}` });
  }
  misspeltFields();
  exitFields();
  unsentInstructions();
  orderLimits();
  for (const [k, v] of Object.entries(body)) {
    if (k === '__proto__') protoKey(at(k));
    else if (!consumed.has(k) && v !== undefined && v !== null) metadata[k] = secretFree(k, v);
  }

  const candidate: Record<string, unknown> = {
    symbol,
    side,
    order_type: orderType,
    quantity,
    time_in_force: timeInForce,
    metadata,
  };
  if (clientOrderId !== undefined && clientOrderId !== null) candidate['client_order_id'] = clientOrderId;
  // The candidate is built here and held by nothing else: when it is a plain order of the schema's own
  // fields, the schema would return it field for field, so it is kept as it is (no second copy).
  if (issues.length === 0 && plainOrderRequest(candidate))
    return { ok: true, order: freezeValidated(candidate as OrderRequest), dialect, notes };
  const parsed = OrderRequestSchema.safeParse(candidate);
  if (parsed.success && issues.length === 0) return { ok: true, order: freezeValidated(parsed.data), dialect, notes };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (!isPlaceholderIssue(issue, candidate)) issues.push(describeZodIssue(issue, candidate, mapPath(issue.path)));
    }
  }
  return { ok: false, dialect, issues: dedupe(issues) };

  /**
   * A key named '__proto__' (JSON makes it an own key): `metadata['__proto__'] = v` sets the object's prototype, so the
   * key was dropped without a word. Refused: the engine's objects could not carry it either.
   */
  function protoKey(path: string): void {
    issues.push({
      path,
      message:
        "'__proto__' cannot be the name of an order's field or metadata key: JavaScript takes it for the object's prototype, so it would be dropped without a word",
      hint: 'name it otherwise',
    });
  }

  /**
   * A key that spells an order field another way ('tif', 'timeInForce', 'units', 'Symbol') or mistypes it
   * ('time_in_forc', 'quantiy': typoField) while that field is not given: refused with the field's name, where it would otherwise travel as metadata and the order go without it
   * (a 'tif': 'IOC' rested as GTC). A price spelt so counts only where the order type needs the price and lacks it.
   */
  function misspeltFields(): void {
    for (const [k, v] of Object.entries(body)) {
      if (consumed.has(k) || v === undefined || v === null) continue;
      // A slip of the keyboard is read as such only for a value the field could hold (never true or false).
      let field = entryOf(FIELD_SPELLINGS, foldKey(k)) ?? (typeof v === 'boolean' ? undefined : typoField(foldKey(k)));
      if (field === 'quantity') field = quantityField;
      else if (field === 'order_type') field = typeField;
      else if (field === 'price' && issues.some((i) => i.path === at('limit_price') && /order needs/.test(i.message)))
        // A stop-limit's limit price as 'limitPrice' (or 'limit'): the field it lacks is limit_price, not price.
        field = 'limit_price';
      if (field === undefined || field === k || body[field] !== undefined) continue;
      if (field === 'expires_at') {
        // A GTD order's missing expiry is this issue, said with the key given.
        const needed = issues.findIndex((i) => i.path === at('expires_at') && /order needs/.test(i.message));
        if (needed >= 0) issues.splice(needed, 1);
      } else if (PRICE_FIELDS.includes(field as (typeof PRICE_FIELDS)[number])) {
        const needed = issues.findIndex((i) => i.path === at(field) && /order needs/.test(i.message));
        if (needed < 0) continue;
        issues.splice(needed, 1);
      } else {
        // A required field given under another name is said once, at the key written ("quantity is required" beside
        // it would lead the summary with the field the component believes it gave).
        const required = issues.findIndex((i) => i.path === at(field) && /^\S+ is required\b/.test(i.message));
        if (required >= 0) issues.splice(required, 1);
      }
      consumed.add(k);
      issues.push({
        path: at(k),
        message: `'${k}' is not an order field: did you mean '${field}'? (as it is, it would be sent as metadata and the order would go without it)`,
        value: showValue(v, k),
        hint: `name it '${field}'`,
      });
    }
  }

  /**
   * A stop loss or take profit written on a single order ('stop_loss', 'sl', 'takeProfit', OANDA's
   * 'stopLossOnFill'): an order carries no exits of its own, so it would have been sent without them, as metadata,
   * and the position left unprotected. Refused, with the bracket that places the entry and both exits.
   */
  function exitFields(): void {
    const exits: Array<[string, 'stop_loss' | 'take_profit' | 'trailing_stop']> = [];
    for (const [k, v] of Object.entries(body)) {
      if (consumed.has(k) || v === undefined || v === null || v === false) continue;
      const exit = exitFieldOf(k);
      if (exit !== undefined) exits.push([k, exit]);
    }
    if (exits.length === 0) return;
    const given = (exit: string): unknown => exits.find(([, e]) => e === exit)?.[0];
    const valueOf = (exit: string): string => {
      const k = given(exit);
      const v = typeof k === 'string' ? body[k] : undefined;
      return typeof v === 'number' && Number.isFinite(v) ? String(v) : '...';
    };
    const entry =
      isObject(orderType) && (orderType['type'] === 'limit' || orderType['type'] === 'stop_limit')
        ? `, 'entry_price': ${String(orderType['type'] === 'limit' ? orderType['price'] : orderType['limit_price'])}`
        : '';
    const shown = (v: unknown): string =>
      typeof v === 'string' ? `'${v}'` : typeof v === 'number' ? showValue(v) : '...';
    const bracket = `{'algo': 'bracket', 'symbol': ${shown(symbol)}, 'side': ${shown(side)}, 'quantity': ${shown(quantity)}${entry}, 'stop_loss': ${valueOf('stop_loss')}, 'take_profit': ${valueOf('take_profit')}}`;
    const trailing = given('trailing_stop') !== undefined;
    const hint = trailing
      ? "for a stop that trails the price, return a trailing stop on a later call: {'algo': 'trailing_stop', 'symbol': ..., 'side': <the exit's side>, 'quantity': ..., 'trail_offset': ...} (README: Parent orders)"
      : `return a bracket, which places the entry and both exits: ${bracket} (README: Parent orders); a note for yourself goes inside 'metadata'`;
    const names = exits.map(([k]) => `'${k}'`);
    const named = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    const one = names.length === 1;
    for (const [k] of exits) consumed.add(k);
    issues.push({
      path: at(exits[0]![0]),
      message: `${named} ${one ? 'is not a field' : 'are not fields'} of a single order: the order would be sent without ${one ? 'it' : 'them'}, as metadata, and nothing would close the position there; ${hint}`,
      value: showValue(body[exits[0]![0]], exits[0]![0]),
      hint,
    });
  }

  /**
   * An execution instruction no venue adapter sends (reduce only, post only, hidden, a displayed size), given as true
   * or a size: it would travel as metadata and the order go without it, working as it was not written (a reduce-only
   * sell opening a short, a post-only limit taking liquidity). Refused, saying what to do instead; false is kept.
   */
  function unsentInstructions(): void {
    for (const [k, v] of Object.entries(body)) {
      if (consumed.has(k) || v === undefined || v === null || v === false || v === 0) continue;
      const what = entryOf(UNSENT_INSTRUCTIONS, foldKey(k));
      if (what === undefined) continue;
      consumed.add(k);
      issues.push({
        path: at(k),
        message: `'${k}' is an instruction SPtrader sends to no venue: the order would go without it, as metadata, ${what}`,
        value: showValue(v, k),
        hint: what.slice(what.indexOf(';') + 2),
      });
    }
  }

  /**
   * Risk limits written on the order itself ('risk_limits', or 'max_position_size' beside the order's fields): no
   * check reads them there, so they travelled as metadata and the order went past them without a word. Refused,
   * naming where a component's limits are read: its __metadata__['risk_limits'].
   */
  function orderLimits(): void {
    for (const [k, v] of Object.entries(body)) {
      if (consumed.has(k) || v === undefined || v === null || (isObject(v) && Object.keys(v).length === 0)) continue;
      const folded = foldKey(k);
      if (folded !== 'risklimits' && folded !== 'maxpositionsize' && folded !== 'maxordervalue') continue;
      consumed.add(k);
      const where =
        folded === 'risklimits' ? '' : `['${folded === 'maxpositionsize' ? 'max_position_size' : 'max_order_value'}']`;
      issues.push({
        path: at(k),
        message: `'${k}' on an order is read by no risk check: the order would go without ${folded === 'risklimits' ? 'these limits' : 'this limit'}, as metadata, and past ${folded === 'risklimits' ? 'them' : 'it'}; a component's own limits are its __metadata__['risk_limits'] (max_position_size, max_order_value), which tighten the configured ones`,
        value: showValue(v, k),
        hint: `move it to __metadata__['risk_limits']${where}`,
      });
    }
  }

  function mapPath(path: ReadonlyArray<PropertyKey>): string {
    const key = path.map(String).join('.');
    for (let n = path.length; n > 0; n--) {
      const head = path.slice(0, n).map(String).join('.');
      const mapped = origin.get(head);
      if (mapped !== undefined) return n === path.length ? mapped : `${mapped}.${path.slice(n).map(String).join('.')}`;
    }
    return prefix + key;
  }

  function buildOrderType(value: unknown, field: string): unknown {
    origin.set('order_type', at(field));
    origin.set('order_type.type', at(field));
    if (value === NONFINITE) return NONFINITE;
    let name: string | undefined;
    let fields: Json = body;
    let fieldPrefix = '';
    /** The keys of a dict order type that are not its fields ('type' itself). */
    const own = new Set<string>();
    if (typeof value === 'string') {
      name = value;
    } else if (isObject(value)) {
      // {type: 'limit', price: ...} or the Rust/serde form {"Limit": {"price": ...}}
      if (typeof value['type'] === 'string') {
        name = value['type'];
        fields = value;
        fieldPrefix = `${field}.`;
        own.add('type');
      } else {
        const keys = Object.keys(value);
        const only = keys[0];
        if (keys.length === 1 && only !== undefined) {
          name = only;
          const inner = value[only];
          fields = isObject(inner) ? inner : {};
          fieldPrefix = `${field}.${only}.`;
        }
      }
    } else if (value === undefined) {
      issues.push({ path: at(field), message: `${field} is required: one of market, limit, stop, stop_limit` });
      return NONFINITE;
    }
    if (name === undefined) {
      issues.push({
        path: at(field),
        message: `${field} must be a string such as 'market' or 'limit', got ${kindOf(value)}`,
      });
      return NONFINITE;
    }
    const spelt = name.trim().toLowerCase().replace(/[-\s]/g, '_');
    // 'limit_order', 'MARKET_ORDER': the type with the word order after it.
    const kind = entryOf(ORDER_TYPE_ALIASES, spelt) ?? entryOf(ORDER_TYPE_ALIASES, spelt.replace(/_order$/, ''));
    const parentAlgo = entryOf(PARENT_ORDER_TYPES, spelt.replace(/_order$/, ''));
    if (kind === undefined && parentAlgo !== undefined) {
      const hint = `a ${parentAlgo.replace('_', ' ')} is a parent order the engine carries out: return ${PARENT_FORMS[parentAlgo] ?? `{'algo': '${parentAlgo}', ...}`} (README: Parent orders)`;
      issues.push({
        path: at(field),
        message: `unknown order type '${name}'; use one of market, limit, stop, stop_limit (${hint})`,
        value: showValue(name),
        hint,
      });
      return NONFINITE;
    }
    if (kind === undefined) {
      const meant = closest(spelt, Object.keys(ORDER_TYPE_ALIASES));
      const hint = meant ? `did you mean '${ORDER_TYPE_ALIASES[meant]}'?` : undefined;
      issues.push({
        path: at(field),
        message: `unknown order type '${name}'; use one of market, limit, stop, stop_limit${hint ? ` (${hint})` : ''}`,
        value: showValue(name),
        ...(hint ? { hint } : {}),
      });
      return NONFINITE;
    }
    if (spelt !== kind) notes.push(`${field} '${name}' was read as '${kind}'`);
    const read = new Set<string>();
    const priceAt = (f: string, modelPath: string): unknown => {
      const p = fieldPrefix === '' ? at(f) : prefix + fieldPrefix + f;
      read.add(f);
      origin.set(modelPath, p);
      if (fieldPrefix === '') return take(f);
      const v = fields[f];
      if (isObject(v) && typeof v[NONFINITE_KEY] === 'string') {
        issues.push(nonFinite(p, f, v[NONFINITE_KEY]));
        return NONFINITE;
      }
      return v;
    };
    const has = (f: string) => fields[f] !== undefined && fields[f] !== null;
    const requirePrice = (v: unknown, f: string, what: string): unknown => {
      if (v === undefined || v === null) {
        issues.push({
          path: fieldPrefix === '' ? at(f) : prefix + fieldPrefix + f,
          message: `a ${kind.replace('_', '-')} order needs ${what} ('${f}')`,
        });
        return NONFINITE;
      }
      return v;
    };
    const built = ((): unknown => {
      switch (kind) {
        case 'market': {
          // The shipped dialect puts the decision price on market orders; it is context, not a limit.
          if (has('price')) {
            const reference = priceAt('price', 'metadata.reference_price');
            if (typeof reference === 'number') {
              metadata['reference_price'] = reference;
              // Kept, as the shipped MarketOrder means it, but said: a trader who put a price on a market order may
              // have expected it to limit the fill.
              notes.push(
                `price ${reference} on a market order was kept as metadata.reference_price (the decision price) and not sent: a market order fills at the market; for a price limit use order_type 'limit'`,
              );
            }
          }
          return { type: 'market' };
        }
        case 'limit': {
          const f = has('price') || !has('limit_price') ? 'price' : 'limit_price';
          const price = requirePrice(priceAt(f, 'order_type.price'), f, 'a limit price');
          samePrice(price, f, ['price', 'limit_price']);
          return { type: 'limit', price };
        }
        case 'stop': {
          const f = has('stop_price') || !has('price') ? 'stop_price' : 'price';
          const price = requirePrice(priceAt(f, 'order_type.price'), f, 'a stop price');
          samePrice(price, f, ['stop_price', 'price']);
          return { type: 'stop', price };
        }
        case 'stop_limit': {
          const limitField = has('limit_price') || !has('price') ? 'limit_price' : 'price';
          const stop = requirePrice(priceAt('stop_price', 'order_type.stop_price'), 'stop_price', 'a stop price');
          const limit = requirePrice(priceAt(limitField, 'order_type.limit_price'), limitField, 'a limit price');
          samePrice(stop, 'stop_price', ['stop_price']);
          samePrice(limit, limitField, ['limit_price', 'price']);
          return { type: 'stop_limit', stop_price: stop, limit_price: limit };
        }
      }
    })();
    if (fieldPrefix !== '') {
      // A key inside the order type that it does not read would be dropped without a word: an IOC written there
      // would rest as GTC, a stop_price on a limit order would be no stop at all. Refused, with where it belongs.
      for (const [k, v] of Object.entries(fields)) {
        if (own.has(k) || read.has(k) || v === undefined || v === null) continue;
        const elsewhere = ORDER_LEVEL_FIELDS.has(k);
        issues.push({
          path: prefix + fieldPrefix + k,
          message: elsewhere
            ? `${k} is not read inside ${field}; put it at the top level of the order, beside ${field}`
            : `a ${kind.replace('_', '-')} order type has no field '${k}'; it reads ${orderTypeFields(kind)}`,
        });
      }
    } else {
      // Beside a string order type, other keys travel as metadata; a price this type does not read is no metadata
      // but an order type misnamed (a stop_price on a 'limit' order meant 'stop_limit').
      for (const k of PRICE_FIELDS) {
        if (read.has(k) || typeof body[k] !== 'number') continue;
        consumed.add(k);
        issues.push({
          path: at(k),
          message: `a ${kind.replace('_', '-')} order has no ${k}; it reads ${orderTypeFields(kind)}${kind === 'limit' || kind === 'stop' ? ` (for both a stop and a limit price use ${field} 'stop_limit')` : ''}`,
        });
      }
    }
    return built;

    /**
     * The same price given twice with different values: under two names (price and limit_price), or in a dict
     * order type and again beside it. Which one was meant cannot be told, so neither is sent.
     */
    function samePrice(value: unknown, used: string, names: readonly string[]): void {
      for (const n of names) read.add(n);
      if (typeof value !== 'number') return;
      const places: Array<[string, Json]> = [[fieldPrefix === '' ? prefix : prefix + fieldPrefix, fields]];
      if (fieldPrefix !== '') places.push([prefix, body]);
      for (const [where, holder] of places)
        for (const n of names) {
          const other = holder[n];
          if ((holder === fields && n === used) || typeof other !== 'number' || other === value) continue;
          if (holder === body) consumed.add(n);
          issues.push({
            path: where + n,
            message: `${where + n} is ${other} but ${prefix + fieldPrefix + used} is ${value}: give the price once`,
          });
        }
    }
  }

  function buildTimeInForce(): unknown {
    const field = 'time_in_force';
    const value = take(field);
    origin.set('time_in_force', at(field));
    origin.set('time_in_force.type', at(field));
    if (value === NONFINITE) return NONFINITE;
    let name: string | undefined;
    let expiresRaw: unknown;
    let expiresPath = at('expires_at');
    if (value === undefined || value === null) {
      // An expiry with no time in force means the order is to expire then: GTD (as GTC it would rest for ever).
      const expiry = EXPIRY_FIELDS.find((f) => body[f] !== undefined && body[f] !== null);
      if (expiry !== undefined) {
        name = 'GTD';
        notes.push(`time_in_force was not given and ${expiry} was: GTD (good till that time) was used`);
      } else {
        name = 'GTC';
        notes.push(GTC_NOTE);
      }
    } else if (typeof value === 'string') {
      name = value;
    } else if (isObject(value)) {
      if (typeof value['type'] === 'string') {
        name = value['type'];
        expiresRaw = value['expires_at'];
        expiresPath = at(`${field}.expires_at`);
      } else {
        const keys = Object.keys(value);
        const only = keys[0];
        if (keys.length === 1 && only !== undefined) {
          name = only;
          const inner = value[only];
          expiresRaw = isObject(inner) ? inner['expires_at'] : undefined;
          expiresPath = at(`${field}.${only}.expires_at`);
        }
      }
    }
    if (name === undefined) {
      issues.push({
        path: at(field),
        message: `time_in_force must be one of GTC, IOC, FOK, GTD, got ${kindOf(value)}`,
      });
      return NONFINITE;
    }
    const upper = (entryOf(TIF_WORDS, foldKey(name)) ?? name.trim().toUpperCase()) as TifName;
    if (!TIF_NAMES.includes(upper)) {
      const day = (upper as string) === 'DAY';
      const meant = day ? undefined : closest(upper, TIF_NAMES);
      const hint = day
        ? "for a day order use 'GTD' with expires_at at the session's close"
        : meant
          ? `did you mean '${meant}'?`
          : undefined;
      issues.push({
        path: at(field),
        message: `unknown time in force '${name}'; use one of GTC, IOC, FOK, GTD${hint ? ` (${hint})` : ''}`,
        value: showValue(name),
        ...(hint ? { hint } : {}),
      });
      return NONFINITE;
    }
    if (upper !== 'GTD') {
      const given: Array<[string, string, unknown]> = EXPIRY_FIELDS.map((f) => [f, at(f), body[f]]);
      if (expiresRaw !== undefined) given.unshift(['expires_at', expiresPath, expiresRaw]);
      for (const f of EXPIRY_FIELDS) consumed.add(f);
      for (const [f, path, v] of given) {
        if (v === undefined || v === null) continue;
        if (upper === 'GTC') {
          // A GTC order never expires: the expiry would be dropped and the order rest past it.
          issues.push({
            path,
            message: `${f} is read only with time_in_force 'GTD'; this order is GTC, which never expires, so it would rest past ${f}: use 'GTD' for an order that expires, or leave ${f} out`,
            value: showValue(v, f),
            hint: "time_in_force 'GTD'",
          });
        } else {
          notes.push(`${f} was not used: an ${upper} order never rests, so it has nothing to expire`);
        }
      }
      return { type: upper };
    }
    if (expiresRaw === undefined) {
      for (const f of EXPIRY_FIELDS) {
        if (body[f] !== undefined) {
          expiresRaw = take(f);
          expiresPath = at(f);
          break;
        }
      }
    }
    origin.set('time_in_force.expires_at', expiresPath);
    if (expiresRaw === undefined || expiresRaw === null) {
      issues.push({
        path: expiresPath,
        message: `a GTD order needs 'expires_at' (epoch seconds, epoch milliseconds or an ISO 8601 time)`,
      });
      return NONFINITE;
    }
    if (expiresRaw === NONFINITE) return NONFINITE;
    const time = parseTime(expiresRaw);
    if (time === undefined || typeof time === 'string') {
      issues.push({
        path: expiresPath,
        message: `expires_at ${JSON.stringify(expiresRaw)} is not a time${time === undefined ? '' : ` (${time})`}; give epoch seconds, epoch milliseconds or an ISO 8601 time such as 2026-12-01T16:00:00Z`,
      });
      return NONFINITE;
    }
    const expiresAt = time.ms;
    if (time.note !== undefined) notes.push(`expires_at ${JSON.stringify(expiresRaw)} ${time.note}`);
    if (expiresAt <= options.now) {
      issues.push({
        path: expiresPath,
        message: `expires_at ${new Date(expiresAt).toISOString()} is in the past (now ${new Date(options.now).toISOString()}); a GTD order must expire in the future${typeof expiresRaw === 'number' && expiresRaw < 1e9 ? `: expires_at is a time, not a duration; for ${expiresRaw} seconds from now give market_data['timestamp_ms'] + ${expiresRaw * 1000}` : ''}`,
      });
      return NONFINITE;
    }
    return { type: 'GTD', expires_at: expiresAt };
  }
}

/** A unique value that stands where a field already failed, so zod doesn't report it twice. */
const NONFINITE: unique symbol = Symbol('already-reported');

function isPlaceholderIssue(issue: z.core.$ZodIssue, candidate: Record<string, unknown>): boolean {
  let v: unknown = candidate;
  for (const key of issue.path) {
    if (v === NONFINITE) return true;
    if (!isObject(v)) return false;
    v = v[String(key)];
  }
  if (v === NONFINITE) return true;
  // a discriminated union failing on a placeholder reports at the union's path
  return issue.code === 'invalid_union' && JSON.stringify(v) === undefined;
}

function nonFinite(path: string, field: string, what: string): FieldIssue {
  return {
    path,
    message: `${field} is ${what}; it must be a finite number (${NONFINITE_HINT})`,
    value: what,
    hint: NONFINITE_HINT,
  };
}

/** A schema issue as a FieldIssue at `path` (the component's own field), with the value seen and a hint where one helps. */
function describeZodIssue(issue: z.core.$ZodIssue, candidate: Record<string, unknown>, path: string): FieldIssue {
  let v: unknown = candidate;
  for (const key of issue.path) v = isObject(v) ? v[String(key)] : undefined;
  const field = String(issue.path[issue.path.length - 1] ?? 'value');
  const ownField = path.split('.').pop() || field;
  const with_ = (message: string, hint?: string): FieldIssue => {
    const value = showValue(v, ownField);
    return { path, message: `${message}${hint ? `: ${hint}` : ''}`, value, ...(hint ? { hint } : {}) };
  };
  if (issue.code === 'invalid_type') {
    if (v === undefined) return { path, message: `${field} is required` };
    const expected =
      issue.expected === 'number' ? 'a number' : issue.expected === 'string' ? 'a string' : issue.expected;
    let hint: string | undefined;
    if (issue.expected === 'number' && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
      hint = `convert it with float(...) in the component`;
    else if (v === null) hint = 'it is None: was the value it comes from never set?';
    else if (issue.expected === 'number' && Array.isArray(v) && v.length === 1 && typeof v[0] === 'number')
      // np.round(np.array([...])), df['qty'].values[-1:], a pandas Series of one row: the number inside was meant.
      hint = 'a list (or numpy array, pandas Series) of one number: take the number, e.g. float(x[0]) or x.item()';
    else if (issue.expected === 'string' && typeof v === 'number' && field === 'symbol')
      hint = "a symbol is text such as 'EUR_USD'";
    return with_(`${field} must be ${expected}, got ${gotValue(v, ownField)}`, hint);
  }
  if (typeof v === 'number' && v <= 0 && /greater than zero$/.test(issue.message)) {
    if (issue.path.length === 1 && issue.path[0] === 'quantity') {
      const side = candidate['side'];
      let hint: string;
      if (v === 0) hint = 'to place no order, return None';
      // A signed size (negative = sell, as SPtraderB's OrderIntent allowed) agrees with side 'sell': the sign is
      // the only mistake there. With side 'buy' the two disagree, and a signed size says sell.
      else if (side === 'sell')
        hint = `side='sell' already says the direction: give ${ownField} ${showValue(-v)}; the ${ownField} is always positive`;
      else if (side === 'buy')
        hint = `did you mean side='sell' with ${ownField} ${showValue(-v)}? The side says the direction; the ${ownField} is always positive`;
      else hint = `the side says the direction; the ${ownField} is always positive (${showValue(-v)})`;
      return with_(`${issue.message}, got ${showValue(v)}`, hint);
    }
    return with_(`${issue.message}, got ${showValue(v)}`);
  }
  if (
    v !== undefined &&
    (issue.code === 'invalid_format' || issue.code === 'custom' || issue.code === 'invalid_value')
  ) {
    return with_(`${issue.message}, got ${showValue(v, ownField)}`);
  }
  return { path, message: issue.message };
}

/** The latest time a Date can hold (ms since the epoch). */
const MAX_DATE_MS = 8.64e15;
/** ISO 8601, extended (2026-12-01T16:00:00.5+01:00, a space or 't' for the T) or basic (20261201T160000Z). */
const ISO_EXTENDED =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)? ?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const ISO_BASIC =
  /^(\d{4})(\d{2})(\d{2})(?:[Tt](\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A time as components write it, in ms since the epoch (with a note when it was read in a way worth saying), or a
 * string saying why it is not one. Epoch numbers by their size: seconds (the design's i64 timestamps) until year
 * 5138, then milliseconds, microseconds (time.time_ns() // 1000) and nanoseconds (pandas' Timestamp.value), each
 * said. An ISO 8601 time is checked field by field (a 30 February is no time, where Date.parse rolled it into March);
 * without a zone it is this computer's local time, as Python's naive datetime.now() means it; a date alone is
 * midnight UTC, said in a note. Other text is left to Date.parse (RFC 2822 with its zone).
 */
function parseTime(v: unknown): { ms: number; note?: string } | string | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
    if (v < 1e11) return { ms: Math.round(v * 1000) };
    if (v < 1e14) return { ms: Math.round(v) };
    const [ms, unit] = v < 1e17 ? [v / 1e3, 'microseconds'] : [v / 1e6, 'nanoseconds'];
    if (ms > MAX_DATE_MS) return undefined;
    return {
      ms: Math.round(ms),
      note: `was read as epoch ${unit} (its size), ${new Date(Math.round(ms)).toISOString()}`,
    };
  }
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const text = v.trim();
  // Eight digits are a basic ISO date (20300101), never seconds of 1970; other digits are an epoch number.
  if (/^\d+(\.\d+)?$/.test(text) && !(text.length === 8 && isoTime(text) !== undefined)) return parseTime(Number(text));
  const iso = isoTime(text);
  if (iso !== undefined) return iso;
  if (/^\d{4}-?\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : { ms };
}

function isoTime(text: string): { ms: number; note?: string } | string | undefined {
  const m = ISO_EXTENDED.exec(text) ?? ISO_BASIC.exec(text);
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const milli = Number(((m[7] ?? '') + '000').slice(0, 3));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return `${year}-${m[2]} has no day ${m[3]}`;
  const endOfDay = hour === 24 && minute === 0 && second === 0 && milli === 0;
  if ((hour > 23 && !endOfDay) || minute > 59 || second > 59)
    return `${m[4]}:${m[5]}:${m[6] ?? '00'} is no time of day`;
  const zone = m[8];
  const dateOnly = m[4] === undefined;
  if (zone === undefined && !dateOnly) {
    const ms = new Date(year, month - 1, day, hour, minute, second, milli).getTime();
    const offset = -new Date(ms).getTimezoneOffset();
    const sign = offset < 0 ? '-' : '+';
    const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
    const mm = String(Math.abs(offset) % 60).padStart(2, '0');
    return {
      ms,
      note: `has no time zone: it was read as this computer's local time (UTC${sign}${hh}:${mm}), ${new Date(ms).toISOString()}`,
    };
  }
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, milli) - offsetMin * 60_000;
  if (utc > MAX_DATE_MS) return undefined;
  // A date alone (Python's date.today() + timedelta(days=2)) is the start of that day, hours before a trader may
  // think the order ends: said.
  return dateOnly
    ? {
        ms: utc,
        note: `is a date without a time: it was read as the start of that day, ${new Date(utc).toISOString()}; give a time with its zone for another`,
      }
    : { ms: utc };
}

/**
 * A metadata value with every secret-looking key redacted, at any depth, before it is turned into text:
 * once stringified, a nested {"api_key": …} could no longer be seen by the audit log's key check, and
 * the order is kept in the paper account, the working orders and the log.
 */
function secretFree(key: string, v: unknown): MetadataValue {
  if (isSecretKey(key)) return REDACTED;
  // A number or a boolean stays what the component wrote; only what has no scalar form becomes text.
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return v;
  return stringify(typeof v === 'object' && v !== null ? redactSecretsDeep(v) : v);
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v[NONFINITE_KEY] === 'string') return String(v[NONFINITE_KEY]);
  return JSON.stringify(v) ?? String(v);
}

function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
