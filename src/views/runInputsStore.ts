/**
 * What Test Order and Execute on Paper give a component, remembered per component file in the workspace
 * (set with "SPtrader: Set Component Inputs…", runInputs.ts): parameters, a signal fixture, a market-data
 * fixture. Fixtures are read when a run starts, so a file that went missing or broke is named then.
 */
import { readJsonObjectFile } from '../common/userFile';
import { basename } from 'node:path';

const INPUTS_KEY = 'sptrader.runInputs';

/** What is remembered for one component file. */
export interface RunInputs {
  parameters?: Record<string, unknown>;
  signalFile?: string;
  marketDataFile?: string;
}

/** The inputs a run uses, read from disk now: a missing or broken fixture is an error naming it. */
export interface ResolvedInputs {
  parameters?: Record<string, unknown>;
  signal?: Record<string, unknown> | null;
  marketData?: Record<string, unknown>;
  /** For the log and the panel: "parameters quantity=5000 · signal sell.json". */
  summary: string;
}

/** Where the inputs are kept: the workspace's `vscode.Memento` (only these two of its methods). */
export interface InputsState {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** "quantity=5000, side=\"sell\"": remembered parameters as the menu and a run's notes show them. */
export const parameterText = (parameters: Record<string, unknown>): string =>
  Object.entries(parameters)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');

/**
 * Where a replay's parameters form starts: the component's inputs (Set Component Inputs…, what Test Order
 * and Execute on Paper use) when it has any, else what the last replay of it used, else the defaults.
 */
export function replayStartingParameters(
  inputs: RunInputs,
  lastReplay: Record<string, unknown> | undefined,
): { parameters: Record<string, unknown>; from: 'component inputs' | 'last replay' | 'defaults' } {
  if (inputs.parameters && Object.keys(inputs.parameters).length > 0)
    return { parameters: { ...inputs.parameters }, from: 'component inputs' };
  if (lastReplay && Object.keys(lastReplay).length > 0) return { parameters: { ...lastReplay }, from: 'last replay' };
  return { parameters: {}, from: 'defaults' };
}

export class RunInputsStore {
  constructor(private readonly state: InputsState) {}

  /** What is remembered for `file`, the parts of the right type only (see `damage`). */
  get(file: string): RunInputs {
    return checkedInputs(this.remembered(file)).inputs;
  }

  /** Every file's inputs as stored, when the store is an object of them (anything else is read as none). */
  private all(): Record<string, unknown> {
    const all = this.state.get<unknown>(INPUTS_KEY);
    return typeof all === 'object' && all !== null && !Array.isArray(all) ? (all as Record<string, unknown>) : {};
  }

  private remembered(file: string): unknown {
    const all = this.all();
    return Object.prototype.hasOwnProperty.call(all, file) ? all[file] : undefined;
  }

  async set(file: string, inputs: RunInputs): Promise<void> {
    const all = { ...this.all() };
    if (inputs.parameters === undefined && inputs.signalFile === undefined && inputs.marketDataFile === undefined)
      delete all[file];
    else all[file] = inputs;
    await this.state.update(INPUTS_KEY, all);
  }

  /** The remembered inputs as a run takes them; throws with a sentence saying which fixture is wrong and how to fix it. */
  resolve(file: string): ResolvedInputs {
    const { inputs, damage } = checkedInputs(this.remembered(file));
    // The workspace state is a file on disk like any other: a part of the wrong type (an older version, an edit, a
    // damaged file) is named, rather than a run going on without it or failing on "x.trim is not a function".
    if (damage.length > 0)
      throw new Error(
        `the inputs remembered for ${basename(file)} in this workspace are damaged (${damage.join('; ')}); set them again with "SPtrader: Set Component Inputs…"`,
      );
    const parts: string[] = [];
    const out: ResolvedInputs = { summary: '' };
    if (inputs.parameters && Object.keys(inputs.parameters).length > 0) {
      out.parameters = inputs.parameters;
      parts.push(`parameters ${parameterText(inputs.parameters)}`);
    }
    if (inputs.signalFile) {
      out.signal = readFixture(inputs.signalFile, 'signal', true);
      parts.push(`signal ${basename(inputs.signalFile)}`);
    }
    if (inputs.marketDataFile) {
      out.marketData = readFixture(inputs.marketDataFile, 'market data', false) ?? undefined;
      parts.push(`market data ${basename(inputs.marketDataFile)}`);
    }
    out.summary = parts.join(' · ');
    return out;
  }
}

function readFixture(file: string, what: string, nullable: boolean): Record<string, unknown> | null {
  try {
    return readJsonObjectFile(file, `the ${what} fixture`, nullable);
  } catch (e) {
    throw new Error(`${(e as Error).message}; fix the file or set it again with "SPtrader: Set Component Inputs…"`);
  }
}

const describeValue = (value: unknown): string =>
  Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;

/** The parts of a remembered entry that have their type, and a phrase for each that has not. */
function checkedInputs(entry: unknown): { inputs: RunInputs; damage: string[] } {
  const inputs: RunInputs = {};
  const damage: string[] = [];
  if (entry === undefined || entry === null) return { inputs, damage };
  if (typeof entry !== 'object' || Array.isArray(entry)) {
    damage.push(`the entry is ${describeValue(entry)}, not an object`);
    return { inputs, damage };
  }
  const { parameters, signalFile, marketDataFile } = entry as Record<string, unknown>;
  if (parameters !== undefined) {
    if (typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters))
      inputs.parameters = parameters as Record<string, unknown>;
    else damage.push(`parameters is ${describeValue(parameters)}, not a dict of parameters`);
  }
  for (const [key, value] of [
    ['signalFile', signalFile],
    ['marketDataFile', marketDataFile],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value === 'string' && value.length > 0) inputs[key] = value;
    else damage.push(`${key} is ${typeof value === 'string' ? 'empty' : describeValue(value)}, not a file path`);
  }
  return { inputs, damage };
}
