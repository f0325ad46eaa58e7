/**
 * The replay panel's message protocol, shared by the extension host and the webview script (bundled
 * from this file by esbuild). The webview says `ready`, the host pushes the replay; both sides parse
 * every incoming message with these schemas and drop what does not match.
 *
 * No `vscode` and no Node imports here: this module runs in the browser too. Written with zod/mini, the same
 * checks as the classic API had (36,000 generated messages parsed alike by both before the change): the page's
 * script is ~36 KB instead of ~206 KB, which the editor sends inside the page and the page parses before its
 * first result.
 */
import * as z from 'zod/mini';

const count = z.int().check(z.nonnegative());
const counts = z.record(z.string(), count);
const point = z.object({ time: z.number(), value: z.number() });

export const ReplayOrderRowSchema = z.object({
  clientOrderId: z.string(),
  index: count,
  time: z.number(),
  side: z.enum(['buy', 'sell']),
  type: z.string(),
  quantity: z.number(),
  price: z.nullable(z.number()),
  state: z.string(),
  filledQuantity: z.number(),
  averagePrice: z.nullable(z.number()),
  reason: z.nullable(z.string()),
});

export const ReplayFillRowSchema = z.object({
  time: z.number(),
  index: count,
  clientOrderId: z.string(),
  side: z.enum(['buy', 'sell']),
  quantity: z.number(),
  price: z.number(),
  commission: z.number(),
  liquidity: z.enum(['maker', 'taker']),
});

export const ReplayStatusSchema = z.enum(['COMPLETED', 'CANCELLED', 'STOPPED']);

/** What the panel shows of one replay (also what the webview keeps with setState). */
export const ReplayViewSchema = z.object({
  ranAt: z.number(),
  status: ReplayStatusSchema,
  /** "SmaCross over eurusd.csv: 2,000 candles of EUR_USD" */
  headline: z.string(),
  /** How far it got and how fast, or where it stopped and why. */
  summary: z.string(),
  file: z.string(),
  className: z.nullable(z.string()),
  dataFile: z.string(),
  symbol: z.string(),
  kind: z.enum(['candles', 'ticks']),
  parameters: z.record(z.string(), z.unknown()),
  records: count,
  processed: count,
  from: z.string(),
  to: z.string(),
  figures: z.object({
    currency: z.string(),
    startingCash: z.number(),
    equity: z.number(),
    realized: z.record(z.string(), z.number()),
    unrealized: z.number(),
    commission: z.number(),
    /** The P&L curve's currency (the instrument's quote currency). */
    curveCurrency: z.string(),
    curveFinal: z.number(),
    maxDrawdown: z.number(),
    maxDrawdownPercent: z.nullable(z.number()),
    turnover: z.number(),
    slippage: z.object({
      unit: z.string(),
      orders: count,
      meanUnits: z.nullable(z.number()),
      meanBps: z.nullable(z.number()),
      worstUnits: z.nullable(z.number()),
      bestUnits: z.nullable(z.number()),
      cost: z.number(),
    }),
    orders: z.object({
      produced: count,
      // Records the component answered with None (no order); absent from a panel saved before it was counted.
      noOrder: z.optional(count),
      sent: count,
      denied: count,
      invalid: count,
      filled: count,
      partiallyFilled: count,
      rejected: count,
      cancelled: count,
      expired: count,
      open: count,
    }),
    deniedByCode: counts,
    rejectedByReason: counts,
    fills: count,
    positions: z.record(z.string(), z.number()),
    /** Parent orders (TWAP, iceberg, …) the component returned; absent in a panel restored from before. */
    parents: z.optional(z.object({ started: count, children: count, done: count, cancelled: count, failed: count })),
  }),
  /** The risk limits the replay ran under and where they came from; absent in a panel restored from before. */
  limits: z.optional(z.string()),
  errors: z.array(
    z.object({ index: count, time: z.string(), code: z.string(), message: z.string(), line: z.nullable(z.number()) }),
  ),
  errorCount: count,
  chart: z.object({
    price: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('candles'),
        bars: z.array(
          z.object({ time: z.number(), open: z.number(), high: z.number(), low: z.number(), close: z.number() }),
        ),
      }),
      z.object({ kind: z.literal('ticks'), points: z.array(point) }),
    ]),
    /** Equity (starting cash + P&L) when the curve's currency is the account's, else the P&L. */
    equity: z.array(point),
    equityLabel: z.string(),
    markers: z.array(
      z.object({
        time: z.number(),
        side: z.enum(['buy', 'sell']),
        fills: count,
        quantity: z.number(),
        price: z.number(),
      }),
    ),
    /** Records per point. */
    bucket: z.int().check(z.positive()),
  }),
  orders: z.array(ReplayOrderRowSchema),
  ordersTotal: count,
  fills: z.array(ReplayFillRowSchema),
  fillsTotal: count,
  /** Which fills files the replay wrote (the Export buttons copy them). */
  exports: z.object({ csv: z.boolean(), parquet: z.boolean() }),
  auditDir: z.nullable(z.string()),
  elapsedMs: z.number(),
});
export type ReplayView = z.infer<typeof ReplayViewSchema>;

/** Webview → host. */
export const ReplayCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('replayAgain') }),
  z.strictObject({ type: z.literal('exportFills'), format: z.enum(['csv', 'parquet']) }),
]);
export type ReplayCommand = z.infer<typeof ReplayCommandSchema>;

/** Host → webview. */
export const ReplayNotificationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('replay'), replay: ReplayViewSchema }),
  z.object({ type: z.literal('running'), running: z.boolean() }),
]);
export type ReplayNotification = z.infer<typeof ReplayNotificationSchema>;

export const ReplayPanelStateSchema = z.object({ replay: z.nullable(ReplayViewSchema) });
export type ReplayPanelState = z.infer<typeof ReplayPanelStateSchema>;

export function parseReplayCommand(message: unknown): ReplayCommand | undefined {
  const parsed = ReplayCommandSchema.safeParse(message);
  return parsed.success ? parsed.data : undefined;
}

export function parseReplayNotification(message: unknown): ReplayNotification | undefined {
  const parsed = ReplayNotificationSchema.safeParse(message);
  return parsed.success ? parsed.data : undefined;
}

export function parseReplayPanelState(state: unknown): ReplayPanelState | undefined {
  const parsed = ReplayPanelStateSchema.safeParse(state);
  return parsed.success ? parsed.data : undefined;
}
