import { describeOrderType, describeStatus, describeTimeInForce } from '../orders/model';
import { describeOutcome, fileOnOneLine, riskDenialDetail, riskValueText, stateOfOutcome } from './describeOrder';
import type { TestOrderOutcome } from './testOrder';

/**
 * The CLI's exit code for a Test Order (the README's table): a refusal by the venue itself is 7, a
 * denial because a state file is damaged or the audit log cannot be written is 6 (the state file
 * code, whatever refused it), everything else as `runTestOrder` says.
 */
export function cliExitCode(outcome: TestOrderOutcome): number {
  if (outcome.denial !== null && STATE_DENIALS.has(outcome.denial.code)) return 6;
  if (
    outcome.denial === null &&
    outcome.response?.status.status === 'rejected' &&
    !outcome.errors.some((e) => e.code === 'NOT_PLACED')
  )
    return 7;
  return outcome.exitCode;
}

const STATE_DENIALS: ReadonlySet<string> = new Set(['STATE_DAMAGED', 'AUDIT_LOG_FAILED']);

/**
 * The readable summary `sptrader test-order` prints. Its first line says what was traded and what
 * happened (`describeOutcome`): "BUY 10,000 EUR_USD MKT IOC → FILLED 10,000 @ 1.07922 (+0.2 pip)".
 */
export function formatOutcome(outcome: TestOrderOutcome): string {
  const lines: string[] = [describeOutcome(outcome)];
  const c = outcome.component;
  lines.push(`Component  ${fileOnOneLine(c.file)}${c.className ? ` (${c.className}.${c.entryPoint ?? ''})` : ''}`);
  lines.push(
    `Venue      ${outcome.venue.id} (${outcome.venue.environment})${outcome.scratch ? ', a scratch copy of the account: the account is unchanged' : ''}`,
  );
  if (outcome.route) {
    lines.push(`Route      ${outcome.route.policy} → ${outcome.route.chosen ?? 'none'}: ${outcome.route.reason}`);
  }
  const md = outcome.marketData;
  if (md && typeof md['bid'] === 'number')
    lines.push(
      `Quote      ${String(md['symbol'])} bid ${String(md['bid'])} / ask ${String(md['ask'])} at ${typeof md['timestamp'] === 'string' ? md['timestamp'] : ''}`,
    );
  const o = outcome.order;
  if (o) {
    lines.push(
      `Order      ${o.side.toUpperCase()} ${o.quantity} ${o.symbol} ${describeOrderType(o.order_type)} ${describeTimeInForce(o.time_in_force)}`,
    );
    if (o.client_order_id) lines.push(`           client order id ${o.client_order_id}`);
  }
  if (outcome.risk.length > 0) {
    const failed = outcome.risk.filter((c) => !c.passed);
    lines.push(
      failed.length === 0
        ? `Risk       ${outcome.risk.length} checks passed`
        : `Risk       DENIED by ${failed.map((f) => `${f.check} (${f.code}: ${riskDenialDetail(f)})`).join(', ')}`,
    );
    // Every check that has a limit, with its numbers and units: why it passed is as plain as why it did not.
    const rows = outcome.risk.filter((c) => c.limit !== null || !c.passed);
    const width = Math.max(0, ...rows.map((c) => c.check.length));
    for (const c of rows)
      lines.push(
        `           ${c.passed ? 'pass' : 'DENY'} ${c.check.padEnd(width)}  ${riskValueText(c, 'actual')}, limit ${riskValueText(c, 'limit')}`,
      );
  }
  if (outcome.events.length > 0) {
    const t0 = outcome.events[0]?.at ?? 0;
    lines.push(
      `Timeline   ${outcome.events.map((e) => `${e.type.replace(/^Order/, '')} +${e.at - t0} ms`).join(' → ')}`,
    );
  }
  const r = outcome.response;
  if (r) {
    // The engine's state, as the first line says it (the venue-neutral status reads ACCEPTED as "submitted").
    const state = stateOfOutcome(outcome);
    lines.push(`Status     ${state ? state.replace('_', ' ') : describeStatus(r.status)}   order id ${r.order_id}`);
    if (r.filled_price !== null)
      lines.push(
        `Fill       ${r.filled_quantity ?? 0} @ ${r.filled_price}   (${r.fills.length} fill${r.fills.length === 1 ? '' : 's'})`,
      );
    lines.push(`Commission ${r.commission ?? 0}`);
  }
  const s = outcome.slippage;
  if (s)
    lines.push(
      `Slippage   ${signed(s.units)} ${s.unit}${Math.abs(s.units) === 1 ? '' : 's'} (${signed(s.price)} in price, ${signed(s.bps)} bps) against the ${s.reference} ${s.referencePrice} the component saw`,
    );
  const t = outcome.timings;
  lines.push(
    `Timings    component ${ms(t.componentMs)}, python total ${ms(t.pythonMs)}, engine ${ms(t.engineMs)}, venue ${ms(t.venueMs)}, total ${ms(t.totalMs)}`,
  );
  for (const note of outcome.notes) lines.push(`Note       ${note}`);
  for (const e of outcome.errors) {
    const where = e.file ? `${fileOnOneLine(e.file)}${e.line ? `:${e.line}` : ''}: ` : '';
    lines.push(`Error      ${where}[${e.code}] ${e.message}`);
  }
  if (c.stdout.trim() !== '') lines.push('--- component stdout ---', c.stdout.trimEnd());
  if (c.stderr.trim() !== '') lines.push('--- component stderr ---', c.stderr.trimEnd());
  lines.push(outcome.summary);
  // Component text is in several lines (what it printed, its error, the order it named): all of it made safe.
  return printable(lines.join('\n'));
}

const ms = (v: number | null): string => (v === null ? '–' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const signed = (n: number): string => (n > 0 ? `+${n}` : `${n}`);

// Control characters (C0 but tab and newline, DEL, C1), the bidirectional overrides, isolates and marks (LRM, RLM,
// ALM), the invisible ones (zero-width space and non-joiner, word joiner, invisible operators, BOM) and the line and
// paragraph separators. The zero-width joiner stays: emoji sequences are made with it.
const UNPRINTABLE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200c\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * What a component printed or raised, safe to show in a terminal or an output channel: a control character is
 * written as its escape (`\x1b`, `\r`, `\u202e`), so that a component's output cannot move the cursor, clear or
 * retitle the terminal, set the clipboard (OSC 52), hide a line behind a carriage return or reorder text. The
 * text itself is kept; a Windows line end is a line end.
 */
export function printable(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(UNPRINTABLE, (ch) => {
    const code = ch.charCodeAt(0);
    if (ch === '\r') return '\\r';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
