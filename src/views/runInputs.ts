/**
 * "SPtrader: Set Component Inputs…" (and the "Inputs…" CodeLens): what Test Order and Execute on Paper give
 * a component, remembered per component file in the workspace — its parameters (the form built from
 * `__metadata__['parameters']`, checked against type, min/max and options), a signal fixture and a
 * market-data fixture (JSON files, as the CLI's `--signal` and `--market-data`). Without a market-data
 * fixture the component sees the venue's quote, as before.
 */
import * as vscode from 'vscode';
import { basename, relative } from 'node:path';
import { Commands } from '../constants';
import { readParameterSpecs } from '../python/componentParameters';
import { onlyGiven, pickParameters } from './parameterPicker';
import type { ViewServices } from './services';
import { guardCommand } from './commandGuard';
import { registerCommand } from './shellHooks';
import { componentTarget } from './testOrderCommand';
import { parameterText, type RunInputsStore } from './runInputsStore';

const JSON_EXCLUDE = '**/{node_modules,.git,.e2e,out,dist,test-results,.sptrader*}/**';

interface InputItem extends vscode.QuickPickItem {
  readonly run: () => Promise<void>;
}

export function registerRunInputs(
  services: Pick<ViewServices, 'context' | 'log' | 'interpreters'>,
  store: RunInputsStore,
): void {
  const { log } = services;
  const pickJson = async (
    title: string,
    current: string | undefined,
    none: string,
  ): Promise<string | null | undefined> => {
    const files = await vscode.workspace.findFiles('**/*.json', JSON_EXCLUDE, 500);
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const items: Array<vscode.QuickPickItem & { file: string | null; browse?: true }> = [
      { label: `$(circle-slash) ${none}`, file: null },
      ...files
        .map((u) => u.fsPath)
        .sort()
        .map((f) => ({
          label: basename(f),
          description: root ? relative(root, f) : f,
          picked: f === current,
          file: f,
        })),
      { label: '$(folder-opened) Browse…', file: null, browse: true },
    ];
    const picked = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, matchOnDescription: true });
    if (!picked) return undefined;
    if (!picked.browse) return picked.file;
    const chosen = await vscode.window.showOpenDialog({ title, filters: { JSON: ['json'] }, canSelectMany: false });
    return chosen?.[0]?.fsPath;
  };

  services.context.subscriptions.push(
    registerCommand(
      Commands.testInputs,
      guardCommand(log, 'Component Inputs', async (uri?: vscode.Uri, className?: string) => {
        const target = await componentTarget('Component Inputs', uri);
        if (!target) return;
        const file = target.fsPath;
        const name = typeof className === 'string' ? className : basename(file);
        const inputs = store.get(file);
        const paramCount = Object.keys(inputs.parameters ?? {}).length;
        const items: InputItem[] = [
          {
            label: '$(settings) Parameters…',
            description: paramCount > 0 ? parameterText(inputs.parameters ?? {}) : 'the defaults of __metadata__',
            run: async () => {
              const worker = await services.interpreters.workerFor(target);
              const info = await worker.inspect(file);
              const { specs, problems } = readParameterSpecs(info.metadata);
              for (const p of problems) log.warn(`Component Inputs: ${file}: ${p}`);
              if (specs.length === 0) {
                void vscode.window.showInformationMessage(
                  `SPtrader: ${name} declares no parameters in __metadata__['parameters'].`,
                );
                return;
              }
              const given = Object.fromEntries(
                Object.entries(inputs.parameters ?? {}).filter(([k]) => specs.some((s) => s.name === k)),
              );
              const values = await pickParameters(`Test Order ${name}`, specs, given, 'Save');
              if (!values) return;
              const kept = onlyGiven(specs, values);
              await store.set(file, { ...inputs, parameters: Object.keys(kept).length > 0 ? kept : undefined });
            },
          },
          {
            label: '$(symbol-event) Signal…',
            description: inputs.signalFile ? basename(inputs.signalFile) : 'none (the component gets None)',
            run: async () => {
              const chosen = await pickJson(`Signal fixture for ${name}`, inputs.signalFile, 'No signal');
              if (chosen === undefined) return;
              await store.set(file, { ...inputs, signalFile: chosen ?? undefined });
            },
          },
          {
            label: '$(graph-line) Market data…',
            description: inputs.marketDataFile
              ? basename(inputs.marketDataFile)
              : "the venue's quote at the time of the run",
            run: async () => {
              const chosen = await pickJson(
                `Market-data fixture for ${name}`,
                inputs.marketDataFile,
                "The venue's quote (no fixture)",
              );
              if (chosen === undefined) return;
              await store.set(file, { ...inputs, marketDataFile: chosen ?? undefined });
            },
          },
        ];
        if (paramCount > 0 || inputs.signalFile || inputs.marketDataFile)
          items.push({
            label: '$(discard) Clear all inputs',
            description: 'defaults, no signal, the venue’s quote',
            run: () => store.set(file, {}),
          });
        const picked = await vscode.window.showQuickPick(items, {
          title: `SPtrader: inputs of ${name} for Test Order and Execute on Paper`,
          placeHolder: 'Remembered for this component in this workspace',
          ignoreFocusOut: true,
        });
        if (!picked) return;
        await picked.run();
        // Say what is now remembered; a broken fixture is said now, not at the next run.
        try {
          const resolved = store.resolve(file);
          log.info(`Test Order inputs of ${file}: ${resolved.summary || 'defaults'}`);
          void vscode.window.showInformationMessage(
            `SPtrader: Test Order and Execute on Paper of ${name} use ${resolved.summary || 'the defaults, no signal and the venue’s quote'}.`,
          );
        } catch (e) {
          void vscode.window.showErrorMessage(`SPtrader: ${(e as Error).message}`);
        }
      }),
    ),
  );
}
