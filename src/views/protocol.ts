/**
 * The result panel's message protocol, shared by the extension host and the webview script (which
 * esbuild bundles from this very file). Commands go webview → host, notifications host → webview;
 * the webview says `ready` before the host pushes the first result. Both sides parse every
 * incoming message with these schemas and drop what does not match.
 *
 * No `vscode` and no Node imports here: this module runs in the browser too. Written with zod/mini, the same
 * checks as the classic API had (36,000 generated messages parsed alike by both before the change): the page's
 * script is ~36 KB instead of ~206 KB, which the editor sends inside the page and the page parses before its
 * first result.
 */
import * as z from 'zod/mini';

const nullableNumber = z.nullable(z.number());
const limitValue = z.nullable(z.union([z.number(), z.string()]));

export const RiskRowSchema = z.object({
  check: z.string(),
  code: z.string(),
  passed: z.boolean(),
  message: z.string(),
  limit: limitValue,
  actual: limitValue,
  /** The limit and the actual value with units and thousands separators ("25,000 units", "10,792.20 USD"); absent in a state saved before they existed. */
  limitText: z.optional(z.string()),
  actualText: z.optional(z.string()),
});

export const TimelineRowSchema = z.object({
  type: z.string(),
  at: z.number(),
  state: z.nullable(z.string()),
  detail: z.string(),
});

export const FillRowSchema = z.object({
  fillId: z.string(),
  price: z.number(),
  quantity: z.number(),
  commission: z.number(),
  liquidity: z.string(),
  timestamp: z.number(),
});

export const QuotePointSchema = z.object({
  /** Milliseconds since the Unix epoch. */
  time: z.number(),
  bid: z.number(),
  ask: z.number(),
});

export const PriceLineSchema = z.object({ price: z.number(), title: z.string() });

export const ErrorRowSchema = z.object({
  code: z.string(),
  message: z.string(),
  file: z.nullable(z.string()),
  line: z.nullable(z.int()),
  path: z.nullable(z.string()),
});

export const RunKindSchema = z.enum(['test-order', 'execute-paper', 'execute-live', 'debug-order']);
export type RunKind = z.infer<typeof RunKindSchema>;

/** A routed order (issue 15): every candidate venue, priced or skipped, and why the chosen one won. */
export const RouteViewSchema = z.object({
  policy: z.string(),
  chosen: z.nullable(z.string()),
  reason: z.string(),
  candidates: z.array(
    z.object({
      venue: z.string(),
      price: nullableNumber,
      quantity: nullableNumber,
      fee: nullableNumber,
      net: nullableNumber,
      coversSize: z.nullable(z.boolean()),
      skipped: z.nullable(z.string()),
    }),
  ),
});

/** A parent order (TWAP, iceberg, bracket, trailing stop) and its children, as they stand now. */
export const ParentViewSchema = z.object({
  parentId: z.string(),
  algo: z.string(),
  /** "BRACKET BUY 10,000 EUR_USD, stop-loss 1.08, take-profit 1.09, filled 0". */
  title: z.string(),
  state: z.string(),
  reason: z.nullable(z.string()),
  filled: z.number(),
  /** What the venue carries natively and what the engine emulates locally. */
  emulation: z.string(),
  watermark: nullableNumber,
  children: z.array(
    z.object({
      id: z.string(),
      role: z.string(),
      index: z.int(),
      order: z.string(),
      state: z.string(),
      filled: z.number(),
    }),
  ),
});
export type ParentView = z.infer<typeof ParentViewSchema>;

/** What the panel shows: a plain, serializable view of a TestOrderOutcome (also what the webview saves as its state). */
export const ResultViewSchema = z.object({
  kind: RunKindSchema,
  ok: z.boolean(),
  exitCode: z.int(),
  /** FILLED, PARTIALLY FILLED, ACCEPTED, CANCELLED, DENIED, REJECTED, ERROR, NO ORDER, VALIDATED… */
  status: z.string(),
  /**
   * What was traded and what happened, in one line: "BUY 10,000 EUR_USD MKT IOC → FILLED 10,000 @ 1.07922 (+0.2 pip)".
   * Absent in a state saved before it existed (the panel then shows the summary alone).
   */
  headline: z.optional(z.string()),
  summary: z.string(),
  ranAt: z.number(),
  file: z.string(),
  className: z.nullable(z.string()),
  venue: z.object({ id: z.string(), environment: z.string() }),
  /** A Test Order that filled on a scratch copy of the paper account (absent in a state saved before it existed). */
  scratch: z.optional(z.boolean()),
  symbol: z.nullable(z.string()),
  side: z.nullable(z.string()),
  clientOrderId: z.nullable(z.string()),
  /** The component's return value as JSON text, and the order after validation and fitting to the venue's grid. */
  orderReturned: z.nullable(z.string()),
  orderNormalized: z.nullable(z.string()),
  risk: z.array(RiskRowSchema),
  denial: z.nullable(z.object({ code: z.string(), message: z.string() })),
  timeline: z.array(TimelineRowSchema),
  timings: z.object({
    componentMs: nullableNumber,
    pythonMs: nullableNumber,
    engineMs: nullableNumber,
    venueMs: nullableNumber,
    totalMs: z.number(),
    /** What the user waited: from the command to this result drawn in the panel (measured by the panel). */
    waitedMs: z.optional(nullableNumber),
  }),
  /** When the command that produced this result was invoked (ms since the epoch), for `waitedMs`. */
  requestedAt: z.optional(z.number()),
  slippage: z.nullable(
    z.object({
      units: z.number(),
      unit: z.string(),
      price: z.number(),
      bps: z.number(),
      reference: z.string(),
      referencePrice: z.number(),
      fillPrice: z.number(),
    }),
  ),
  commission: nullableNumber,
  filledPrice: nullableNumber,
  filledQuantity: nullableNumber,
  fills: z.array(FillRowSchema),
  stdout: z.string(),
  stderr: z.string(),
  errors: z.array(ErrorRowSchema),
  notes: z.array(z.string()),
  quotes: z.array(QuotePointSchema),
  priceLines: z.array(PriceLineSchema),
  /** A routed order's decision (absent when the order was not routed, or in a state saved before it existed). */
  route: z.optional(RouteViewSchema),
  /** A parent order and its children (absent for a plain order). */
  parent: z.optional(ParentViewSchema),
});
export type ResultView = z.infer<typeof ResultViewSchema>;
export type RiskRow = z.infer<typeof RiskRowSchema>;
export type TimelineRow = z.infer<typeof TimelineRowSchema>;
export type QuotePoint = z.infer<typeof QuotePointSchema>;

/** A panel's page asks for a component's file at a line (an error's location): the result and Compare panels. */
export const OpenLocationCommandSchema = z.strictObject({
  type: z.literal('openLocation'),
  file: z.string().check(z.minLength(1)),
  line: z.nullable(z.int().check(z.positive())),
});

/** Webview → host. */
export const WebviewCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('runAgain') }),
  OpenLocationCommandSchema,
  /** The result of this `ranAt` is on screen (sent as the frame that draws it begins). */
  z.strictObject({ type: z.literal('drawn'), ranAt: z.number() }),
]);
export type WebviewCommand = z.infer<typeof WebviewCommandSchema>;

/** Host → webview. */
export const HostNotificationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('result'), result: ResultViewSchema }),
  z.object({ type: z.literal('running'), running: z.boolean() }),
  z.object({ type: z.literal('quotes'), symbol: z.string(), quotes: z.array(QuotePointSchema) }),
]);
export type HostNotification = z.infer<typeof HostNotificationSchema>;

/** What the webview keeps with `setState`, so a reloaded or restored panel shows the same result. */
export const PanelStateSchema = z.object({ result: z.nullable(ResultViewSchema) });
export type PanelState = z.infer<typeof PanelStateSchema>;

export function parseWebviewCommand(message: unknown): WebviewCommand | undefined {
  const parsed = WebviewCommandSchema.safeParse(message);
  return parsed.success ? parsed.data : undefined;
}

export function parseHostNotification(message: unknown): HostNotification | undefined {
  const parsed = HostNotificationSchema.safeParse(message);
  return parsed.success ? parsed.data : undefined;
}

export function parsePanelState(state: unknown): PanelState | undefined {
  const parsed = PanelStateSchema.safeParse(state);
  return parsed.success ? parsed.data : undefined;
}
