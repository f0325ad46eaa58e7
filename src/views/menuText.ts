/** Words the editor's menus use (trading state, paper faults), without `vscode`, so plain Node tests read them. */
import type { FaultSwitchState } from '../brokers/paper/faults';
import type { TradingStateName } from '../execution/risk';

/** "14:03:27 UTC": every time the editor shows is UTC, as in the audit log and the panels. */
export const utcTime = (ms: number): string => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

/** What each state means, in the words the menu and the tooltip use. */
export const STATE_MEANING: Record<TradingStateName, string> = {
  ACTIVE: 'every order may be sent',
  REDUCING: 'only orders that reduce a position are sent',
  HALTED: 'nothing is sent',
};

/** The switch's state in a few words: "link down · 2 rejections queued · +250 ms (+0–50)"; "no faults". */
export function describeFaults(s: FaultSwitchState): string {
  const parts: string[] = [];
  if (s.disconnected) parts.push('link down');
  if (s.rejectsQueued > 0) parts.push(`${s.rejectsQueued} rejection${s.rejectsQueued === 1 ? '' : 's'} queued`);
  if (s.latencyMs) parts.push(`+${s.latencyMs.fixed} ms${s.latencyMs.jitter > 0 ? ` (+0–${s.latencyMs.jitter})` : ''}`);
  return parts.length === 0 ? 'no faults' : parts.join(' · ');
}

/** "250" or "250 50" (fixed, jitter): whole milliseconds, 0–60,000; a message for anything else. */
export function parseLatency(text: string): { fixed: number; jitter: number } | string {
  const parts = text
    .trim()
    .split(/[\s,+]+/)
    .filter(Boolean);
  if (parts.length === 0 || parts.length > 2)
    return 'enter a delay in milliseconds, optionally a jitter: "250" or "250 50"';
  const numbers = parts.map(Number);
  for (const [i, n] of numbers.entries()) {
    const name = i === 0 ? 'the delay' : 'the jitter';
    if (!Number.isInteger(n)) return `${name} must be a whole number of milliseconds (got "${parts[i]}")`;
    if (n < 0 || n > 60_000) return `${name} must be between 0 and 60,000 ms (got ${n})`;
  }
  return { fixed: numbers[0] as number, jitter: numbers[1] ?? 0 };
}
