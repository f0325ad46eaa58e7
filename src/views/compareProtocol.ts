/**
 * The Compare Venues panel's message protocol, shared by the extension host and the webview script
 * (esbuild bundles this file into media/compare.js). Commands go webview → host, notifications host →
 * webview; both sides parse every message with these schemas and drop what does not match.
 *
 * No `vscode` and no Node imports here: this module runs in the browser too. zod/mini, as protocol.ts says why.
 */
import * as z from 'zod/mini';
import { OpenLocationCommandSchema } from './protocol';

const nullableNumber = z.nullable(z.number());

/** One venue's column: each row already worded (as `sptrader compare` prints it), and the numbers the chart needs. */
export const CompareColumnSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  environment: z.string(),
  /** FILLED, PARTIALLY_FILLED, ACCEPTED, CANCELLED, EXPIRED, REJECTED, DENIED, NOT_SENT, UNCONFIRMED. */
  verdict: z.string(),
  code: z.nullable(z.string()),
  reason: z.nullable(z.string()),
  /** The venue's own touch at decision time. */
  bid: nullableNumber,
  ask: nullableNumber,
  quoteAt: nullableNumber,
  order: z.nullable(z.string()),
  clientOrderId: z.nullable(z.string()),
  fillQuantity: nullableNumber,
  fillPrice: nullableNumber,
  fills: z.int(),
  /** Against this venue's own quote: "+0.2 pips", "+1.8 bps". */
  slippage: z.nullable(z.string()),
  slippageBps: z.nullable(z.string()),
  submitMs: nullableNumber,
  ackMs: nullableNumber,
  fillMs: nullableNumber,
  fees: nullableNumber,
  /** Against the best fill net of fees: "+0.1 pip, +0.9 bps, fees +0.00"; "best" for the best; null when not filled. */
  versusBest: z.nullable(z.string()),
  best: z.boolean(),
  notes: z.array(z.string()),
  /** A routed order: the router's pick, a candidate it passed over, one it skipped, or not a candidate; and why. */
  route: z.nullable(z.object({ role: z.string(), reason: z.nullable(z.string()) })),
  /** A parent order: the parent carried out at this venue (its children's fills are the fill above). */
  parent: z.nullable(
    z.object({
      state: z.string(),
      reason: z.nullable(z.string()),
      description: z.string(),
      emulation: z.string(),
      children: z.int(),
    }),
  ),
});
export type CompareColumn = z.infer<typeof CompareColumnSchema>;

export const CompareViewSchema = z.object({
  ok: z.boolean(),
  summary: z.string(),
  ranAt: z.number(),
  file: z.string(),
  className: z.nullable(z.string()),
  symbol: z.nullable(z.string()),
  side: z.nullable(z.string()),
  /** The component's order as it returned it, normalised (before each venue's grid). */
  order: z.nullable(z.string()),
  best: z.nullable(z.string()),
  /** A routed order: which venue the router would pick and why. */
  route: z.nullable(z.string()),
  errors: z.array(
    z.object({
      code: z.string(),
      message: z.string(),
      file: z.nullable(z.string()),
      line: z.nullable(z.int()),
    }),
  ),
  notes: z.array(z.string()),
  columns: z.array(CompareColumnSchema),
  timings: z.object({ pythonMs: nullableNumber, totalMs: z.number() }),
  stdout: z.string(),
  stderr: z.string(),
});
export type CompareView = z.infer<typeof CompareViewSchema>;

/** Webview → host. */
export const CompareCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('runAgain') }),
  OpenLocationCommandSchema,
]);
export type CompareCommand = z.infer<typeof CompareCommandSchema>;

/** Host → webview. */
export const CompareNotificationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('compare'), view: CompareViewSchema }),
  z.object({ type: z.literal('running'), running: z.boolean() }),
]);
export type CompareNotification = z.infer<typeof CompareNotificationSchema>;

/** What the webview keeps with `setState`, so a restored panel shows the same comparison. */
export const ComparePanelStateSchema = z.object({ view: z.nullable(CompareViewSchema) });
export type ComparePanelState = z.infer<typeof ComparePanelStateSchema>;

export function parseCompareCommand(message: unknown): CompareCommand | undefined {
  const parsed = CompareCommandSchema.safeParse(message);
  return parsed.success ? parsed.data : undefined;
}

export function parseCompareNotification(message: unknown): CompareNotification | undefined {
  const parsed = CompareNotificationSchema.safeParse(message);
  return parsed.success ? parsed.data : undefined;
}

export function parseComparePanelState(state: unknown): ComparePanelState | undefined {
  const parsed = ComparePanelStateSchema.safeParse(state);
  return parsed.success ? parsed.data : undefined;
}
