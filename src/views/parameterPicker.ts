/**
 * The parameters form of a component (from `__metadata__['parameters']`): each parameter at its default
 * or last value, checked as it is typed (type, min/max, options), until the user goes on. Shared by Replay
 * Component and Component Inputs.
 */
import * as vscode from 'vscode';
import {
  describeParameter,
  formatParameterValue,
  parseParameterText,
  resolveParameters,
  type ParameterSpec,
} from '../python/componentParameters';

interface ParameterItem extends vscode.QuickPickItem {
  action: 'run' | 'reset' | 'edit';
  spec?: ParameterSpec;
}

/**
 * The parameters, each at its default or last value, until the user runs: Enter on "Run" starts, a
 * parameter opens an input (or its options) checked as it is typed. Undefined when the user leaves.
 */
export async function pickParameters(
  title: string,
  specs: readonly ParameterSpec[],
  initial: Record<string, unknown>,
  go: string,
  /** Where `initial` came from, said in the title ("starting from the component inputs"). */
  origin?: string,
): Promise<Record<string, unknown> | undefined> {
  const given: Record<string, unknown> = { ...initial };
  let problem: string | undefined;
  for (;;) {
    const resolved = resolveParameters(specs, given);
    if (specs.length === 0 && resolved.ok) return resolved.values;
    const values = resolved.ok ? resolved.values : { ...defaultsOf(specs), ...given };
    const problems = resolved.ok ? [] : resolved.problems;
    const items: ParameterItem[] = [
      {
        label: `$(play) ${go}`,
        description: problems.length > 0 ? `fix first: ${problems.map((p) => p.message).join('; ')}` : '',
        action: 'run',
        alwaysShow: true,
      },
      ...specs.map((spec) => {
        const has = spec.name in values;
        const isDefault = !(spec.name in given) || sameValue(given[spec.name], spec.default);
        const bad = problems.find((p) => p.name === spec.name);
        return {
          label: spec.name,
          description: `${has ? `= ${formatParameterValue(values[spec.name])}` : '(the component’s own default)'}${isDefault ? '  (default)' : ''}${bad ? '  $(error) invalid' : ''}`,
          detail: `${describeParameter(spec)}${spec.description ? ` — ${spec.description}` : ''}`,
          action: 'edit' as const,
          spec,
        };
      }),
      ...(Object.keys(given).length > 0 ? [{ label: '$(discard) Reset to defaults', action: 'reset' as const }] : []),
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: `${title}: parameters (from __metadata__['parameters']${origin ? `, ${origin}` : ''})`,
      placeHolder: problem ?? `Enter on "${go}" to go on, or pick a parameter to change it`,
      matchOnDetail: true,
      ignoreFocusOut: true,
    });
    problem = undefined;
    if (!picked) return undefined;
    if (picked.action === 'run') {
      if (resolved.ok) return resolved.values;
      problem = `Fix first: ${problems.map((p) => p.message).join('; ')}`;
      void vscode.window.showErrorMessage(`SPtrader ${title}: ${problem}`);
      continue;
    }
    if (picked.action === 'reset') {
      for (const key of Object.keys(given)) delete given[key];
      continue;
    }
    const spec = picked.spec as ParameterSpec;
    const value = await editParameter(spec, values[spec.name]);
    if (value !== undefined) given[spec.name] = value.value;
  }
}

async function editParameter(spec: ParameterSpec, current: unknown): Promise<{ value: unknown } | undefined> {
  const choices = spec.options ?? (spec.type === 'bool' ? [true, false] : undefined);
  if (choices && choices.length > 0) {
    const picked = await vscode.window.showQuickPick(
      choices.map((o) => ({
        label: formatParameterValue(o),
        description: sameValue(o, spec.default) ? 'default' : '',
        picked: sameValue(o, current),
        value: o,
      })),
      { title: `${spec.name}: ${describeParameter(spec)}`, ignoreFocusOut: true },
    );
    return picked ? { value: picked.value } : undefined;
  }
  const text = await vscode.window.showInputBox({
    title: `${spec.name} (${describeParameter(spec)})`,
    prompt: spec.description ?? `The value of ${spec.name}`,
    value: current === undefined ? '' : formatParameterValue(current),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const parsed = parseParameterText(spec, v);
      return parsed.ok ? undefined : parsed.message;
    },
  });
  if (text === undefined) return undefined;
  const parsed = parseParameterText(spec, text);
  return parsed.ok ? { value: parsed.value } : undefined;
}

function defaultsOf(specs: readonly ParameterSpec[]): Record<string, unknown> {
  return Object.fromEntries(specs.filter((s) => s.default !== undefined).map((s) => [s.name, s.default]));
}

/** The values that differ from their defaults (what is remembered for the next replay of the component). */
export function onlyGiven(specs: readonly ParameterSpec[], values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).filter(([name, v]) => {
      const spec = specs.find((s) => s.name === name);
      return spec !== undefined && !sameValue(v, spec.default);
    }),
  );
}

export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
