/**
 * Where a component's `__metadata__['risk_limits']` is written, for a malformed one to be said at its line (the
 * engine's INVALID_RISK_LIMITS denial names the limit, not the file): the line of the first limit the problem
 * names, else of the `risk_limits` key, else of the `__metadata__` assignment. And the problem with the limits as
 * the file declares them, read without running it, for a command to refuse before anything runs.
 */
import { DEFAULT_RISK_LIMITS, tightenLimits } from '../execution/risk';
import type { ComponentInfo } from '../python/protocol';

type LimitsInfo = Pick<ComponentInfo, 'metadataLine' | 'riskLimitsLines'>;

/** The line a risk_limits problem (`risk_limits.max_position_size must be ...`) belongs on, when it is known. */
export function riskLimitsLine(info: LimitsInfo | undefined, problem: string): number | undefined {
  const lines = info?.riskLimitsLines;
  if (lines !== undefined) {
    for (const m of problem.matchAll(/risk_limits\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const line = Object.prototype.hasOwnProperty.call(lines, m[1] as string) ? lines[m[1] as string] : undefined;
      if (line !== undefined) return line;
    }
    if (lines[''] !== undefined) return lines[''];
  }
  return info?.metadataLine;
}

/**
 * What is wrong with the risk_limits a component's file declares (a literal `__metadata__`), in the engine's own
 * words, with the line it belongs on; undefined when they are valid or not declared as a literal.
 */
export function declaredRiskLimitsProblem(
  info: (LimitsInfo & Pick<ComponentInfo, 'metadata'>) | undefined,
): { message: string; line: number | undefined } | undefined {
  const limits = info?.metadata?.['risk_limits'];
  if (limits === undefined || limits === null) return undefined;
  const { issues } = tightenLimits(DEFAULT_RISK_LIMITS, limits);
  if (issues.length === 0) return undefined;
  const message = `the component's __metadata__['risk_limits'] is invalid: ${issues.join('; ')}`;
  return { message, line: riskLimitsLine(info, message) };
}
