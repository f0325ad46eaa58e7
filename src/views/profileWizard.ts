/**
 * The Add/Edit Broker Profile wizard: one question at a time, each showing "n/N" (the questions of the
 * chosen venue, `wizardSteps` in profiles.ts) and, after the first, a Back button that returns to the
 * previous question with its answer kept. Answers are checked field by field with the profile schema while
 * they are typed. It returns the draft profile; saving it and asking for credentials is the caller's.
 */
import * as vscode from 'vscode';
import type { BrokerEnvironment } from '../brokers/broker';
import {
  BROKER_KINDS,
  BrokerProfileError,
  BrokerProfileSchema,
  parseBrokerProfile,
  type BrokerKind,
  type BrokerProfile,
  type BrokerProfileInput,
} from '../brokers/registry';
import {
  DEFAULT_ALPACA_DATA_ENDPOINT,
  defaultIbPort,
  environmentChoices,
  wizardSteps,
  type WizardStep,
} from './profiles';

const BROKER_LABELS: Readonly<Record<BrokerKind, { label: string; detail: string }>> = {
  oanda: { label: 'OANDA', detail: 'Forex and CFDs over the v20 REST API (practice or live)' },
  alpaca: { label: 'Alpaca', detail: 'US stocks and crypto (paper or live)' },
  binance: { label: 'Binance', detail: 'Spot crypto (testnet or live)' },
  ib: { label: 'Interactive Brokers', detail: 'Through a running TWS or IB Gateway (paper or live)' },
  paper: {
    label: 'Paper (another simulated account)',
    detail: 'A second embedded paper account with its own cash and positions',
  },
};

/** Real venues first; a second paper account last. */
const WIZARD_BROKERS: readonly BrokerKind[] = [...BROKER_KINDS.filter((k) => k !== 'paper'), 'paper'];

/** The Back button was pressed: the wizard goes one question back. */
const BACK = Symbol('back');
type Answer<T> = T | typeof BACK | undefined;

/** Every answer given so far; going back and forth keeps them. */
interface Answers {
  broker?: BrokerKind;
  environment?: BrokerEnvironment;
  id?: string;
  ibApplication?: 'tws' | 'gateway';
  host?: string;
  port?: string;
  clientId?: string;
  baseUrl?: string;
  dataUrl?: string;
  dataFeed?: AlpacaDataFeed;
}

type AlpacaDataFeed = NonNullable<BrokerProfile['dataFeed']>;

/** Alpaca's stock quote feeds (Alpaca Market Data FAQ; the profile's `dataFeed`), the free one first. */
const DATA_FEEDS: ReadonlyArray<{ value: AlpacaDataFeed; label: string; description: string }> = [
  { value: 'iex', label: 'iex', description: 'IEX exchange only, real time, free to every account (the default)' },
  { value: 'sip', label: 'sip', description: 'all US exchanges, real time: needs a paid Alpaca market-data plan' },
  {
    value: 'delayed_sip',
    label: '$(warning) delayed_sip',
    description: 'all US exchanges, 15 minutes delayed: NOT the live price (checks and confirmations say so)',
  },
];

interface Place {
  readonly title: string;
  readonly step: number;
  readonly totalSteps: number;
}

/**
 * Asks for a new profile (or a change to `existing`); undefined when the person cancelled. `knownIds`: ids
 * a new profile may not take.
 */
export async function runProfileWizard(
  knownIds: ReadonlySet<string>,
  existing?: BrokerProfile,
): Promise<BrokerProfileInput | undefined> {
  const title = existing ? `SPtrader: Edit Broker Profile ${existing.id}` : 'SPtrader: Add Broker Profile';
  const answers: Answers = existing
    ? {
        broker: existing.broker,
        environment: existing.environment,
        id: existing.id,
        ...(existing.host === undefined ? {} : { host: existing.host }),
        ...(existing.port === undefined ? {} : { port: String(existing.port) }),
        ...(existing.clientId === undefined ? {} : { clientId: String(existing.clientId) }),
        ...(existing.baseUrl === undefined ? {} : { baseUrl: existing.baseUrl }),
        ...(existing.dataUrl === undefined ? {} : { dataUrl: existing.dataUrl }),
        ...(existing.dataFeed === undefined ? {} : { dataFeed: existing.dataFeed }),
      }
    : {};
  let index = 0;
  for (;;) {
    // The questions follow the venue chosen so far (before one is chosen: the one highlighted, first OANDA).
    const steps = wizardSteps(answers.broker ?? (WIZARD_BROKERS[0] as BrokerKind), existing !== undefined);
    const name = steps[index];
    if (name === undefined) return draftOf(answers, existing);
    const place: Place = { title, step: index + 1, totalSteps: steps.length };
    const result = await ask(name, place, answers, knownIds, existing);
    if (result === undefined) return undefined;
    index = result === BACK ? Math.max(0, index - 1) : index + 1;
  }
}

/** Asks one question and records its answer; BACK or undefined (cancelled) otherwise. */
async function ask(
  step: WizardStep,
  place: Place,
  answers: Answers,
  knownIds: ReadonlySet<string>,
  existing: BrokerProfile | undefined,
): Promise<typeof BACK | true | undefined> {
  const broker = answers.broker ?? 'oanda';
  const environment = answers.environment ?? environmentChoices(broker)[0] ?? 'paper';
  const draft = { id: answers.id ?? 'draft', broker, environment };
  const got = <T>(value: Answer<T>, keep: (v: T) => void): typeof BACK | true | undefined => {
    if (value === undefined) return undefined;
    if (value === BACK) return BACK;
    keep(value);
    return true;
  };
  switch (step) {
    case 'broker':
      return got(
        await pickOne(
          place,
          'Broker',
          WIZARD_BROKERS.map((b) => ({ ...BROKER_LABELS[b], value: b })),
          answers.broker,
          // The count follows the venue highlighted: IB asks more than Binance.
          (b) => wizardSteps(b, false).length,
        ),
        (b) => {
          if (b !== answers.broker) {
            // Another venue: its own questions start afresh, and an id that was only the default follows it.
            if (answers.id === `${answers.broker}-${answers.environment}`) delete answers.id;
            for (const k of [
              'environment',
              'ibApplication',
              'host',
              'port',
              'clientId',
              'baseUrl',
              'dataUrl',
              'dataFeed',
            ] as const)
              delete answers[k];
          }
          answers.broker = b;
        },
      );
    case 'environment':
      return got(
        await pickOne(
          place,
          existing ? `Environment (now ${existing.environment})` : 'Environment',
          environmentChoices(broker).map((env) => ({
            label: env === 'live' ? '$(warning) live' : env,
            description:
              env === 'live' ? 'REAL MONEY: orders only through Execute Live…, each one confirmed' : 'no real money',
            value: env,
          })),
          answers.environment,
        ),
        (env) => {
          if (existing === undefined && answers.id === `${broker}-${answers.environment}`) delete answers.id;
          answers.environment = env;
        },
      );
    case 'id':
      return got(
        await typeIn(place, {
          prompt: 'Profile id (letters, digits, . _ -)',
          value: answers.id ?? `${broker}-${environment}`,
          validate: (v) =>
            knownIds.has(v) ? `a profile named "${v}" exists` : fieldProblem({ ...draft, id: v }, 'id'),
        }),
        (v) => (answers.id = v),
      );
    case 'ibApplication':
      return got(
        await pickOne(
          place,
          'Which IB application runs locally?',
          [
            { label: 'TWS', description: `port ${defaultIbPort(environment, 'tws')}`, value: 'tws' as const },
            {
              label: 'IB Gateway',
              description: `port ${defaultIbPort(environment, 'gateway')}`,
              value: 'gateway' as const,
            },
          ],
          answers.ibApplication,
        ),
        (app) => {
          if (app !== answers.ibApplication) delete answers.port;
          answers.ibApplication = app;
        },
      );
    case 'host':
      return got(
        await typeIn(place, {
          prompt: 'TWS / IB Gateway host',
          value: answers.host ?? '127.0.0.1',
          validate: (v) => fieldProblem({ ...draft, host: v.trim(), clientId: 0 }, 'host'),
        }),
        (v) => (answers.host = v.trim()),
      );
    case 'port':
      return got(
        await typeIn(place, {
          prompt: 'Port (API settings of TWS / IB Gateway)',
          value: answers.port ?? String(defaultIbPort(environment, answers.ibApplication ?? 'tws')),
          validate: (v) => fieldProblem({ ...draft, port: Number(v), clientId: 0 }, 'port'),
        }),
        (v) => (answers.port = v),
      );
    case 'clientId':
      return got(
        await typeIn(place, {
          prompt: 'Client id: a whole number unique per TWS / IB Gateway connection',
          value: answers.clientId ?? '1',
          validate: (v) => fieldProblem({ ...draft, clientId: v.trim() === '' ? Number.NaN : Number(v) }, 'clientId'),
        }),
        (v) => (answers.clientId = v),
      );
    case 'baseUrl':
      return got(
        await typeIn(place, {
          prompt: 'Base URL (optional: a proxy or a local fake). Empty: the venue’s own URL for this environment.',
          value: answers.baseUrl ?? '',
          validate: (v) => (v.trim() === '' ? undefined : fieldProblem({ ...draft, baseUrl: v.trim() }, 'baseUrl')),
        }),
        (v) => (answers.baseUrl = v.trim()),
      );
    case 'dataUrl': {
      // Alpaca's market-data URL: with a base URL it starts as that URL (a server that serves both).
      const custom = (answers.baseUrl ?? '') !== '';
      return got(
        await typeIn(place, {
          prompt: custom
            ? `Market-data URL (required with a base URL): where quotes are asked for, with your keys. The same server if it serves market data too; ${DEFAULT_ALPACA_DATA_ENDPOINT} for Alpaca’s own.`
            : `Market-data URL (optional): where quotes are asked for, with your keys. Empty: Alpaca’s own, ${DEFAULT_ALPACA_DATA_ENDPOINT}.`,
          value: answers.dataUrl ?? answers.baseUrl ?? '',
          validate: (v) => {
            if (v.trim() !== '')
              return fieldProblem({ ...draft, baseUrl: answers.baseUrl || undefined, dataUrl: v.trim() }, 'dataUrl');
            return custom
              ? `with a base URL, quotes need a market-data URL too (otherwise they would go to ${DEFAULT_ALPACA_DATA_ENDPOINT} with your keys)`
              : undefined;
          },
        }),
        (v) => (answers.dataUrl = v.trim()),
      );
    }
    case 'dataFeed':
      return got(
        await pickOne(
          place,
          'Stock quote feed',
          DATA_FEEDS.map((f) => ({ label: f.label, description: f.description, value: f.value })),
          answers.dataFeed ?? 'iex',
        ),
        (feed) => (answers.dataFeed = feed),
      );
  }
}

/** The profile the answers make (fields of another venue, left from going back, are not in it). */
function draftOf(answers: Answers, existing: BrokerProfile | undefined): BrokerProfileInput {
  const broker = answers.broker ?? 'oanda';
  const draft: BrokerProfileInput = {
    id: answers.id ?? '',
    broker,
    ...(answers.environment === undefined ? {} : { environment: answers.environment }),
    ...(existing?.displayName ? { displayName: existing.displayName } : {}),
  };
  if (broker === 'ib') {
    draft.host = answers.host ?? '127.0.0.1';
    draft.port = Number(answers.port);
    draft.clientId = Number(answers.clientId);
  } else if (broker !== 'paper') {
    if (answers.baseUrl) draft.baseUrl = answers.baseUrl;
    if (broker === 'alpaca' && answers.dataUrl) draft.dataUrl = answers.dataUrl;
    if (broker === 'alpaca' && answers.dataFeed) draft.dataFeed = answers.dataFeed;
  }
  return draft;
}

interface Choice<T> extends vscode.QuickPickItem {
  readonly value: T;
}

/** A quick pick at its step, the previous answer highlighted; BACK from the Back button. */
function pickOne<T>(
  place: Place,
  placeholder: string,
  items: Choice<T>[],
  previous: T | undefined,
  totalStepsFor?: (highlighted: T) => number,
): Promise<Answer<T>> {
  const pick = vscode.window.createQuickPick<Choice<T>>();
  pick.title = place.title;
  pick.step = place.step;
  pick.totalSteps = place.totalSteps;
  pick.placeholder = placeholder;
  pick.items = items;
  pick.ignoreFocusOut = true;
  pick.buttons = place.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  const active = items.find((i) => i.value === previous);
  if (active) pick.activeItems = [active];
  return settle(pick, (done) => [
    pick.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && done(BACK)),
    pick.onDidChangeActive(([item]) => {
      if (item && totalStepsFor) pick.totalSteps = totalStepsFor(item.value);
    }),
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
      if (chosen) done(chosen.value);
    }),
  ]);
}

/** An input box at its step, starting from the previous answer, checked as it is typed; BACK from the Back button. */
function typeIn(
  place: Place,
  options: { prompt: string; value: string; validate: (value: string) => string | undefined },
): Promise<Answer<string>> {
  const box = vscode.window.createInputBox();
  box.title = place.title;
  box.step = place.step;
  box.totalSteps = place.totalSteps;
  box.prompt = options.prompt;
  box.value = options.value;
  box.ignoreFocusOut = true;
  box.buttons = place.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  box.validationMessage = options.validate(options.value);
  return settle(box, (done) => [
    box.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && done(BACK)),
    box.onDidChangeValue((v) => (box.validationMessage = options.validate(v))),
    box.onDidAccept(() => {
      const problem = options.validate(box.value);
      box.validationMessage = problem;
      if (problem === undefined) done(box.value);
    }),
  ]);
}

/** Shows `input` until one of its listeners settles it (or it is hidden: cancelled), then disposes of it. */
function settle<T>(
  input: vscode.QuickInput,
  listen: (done: (value: Answer<T>) => void) => vscode.Disposable[],
): Promise<Answer<T>> {
  return new Promise<Answer<T>>((resolve) => {
    let settled = false;
    const disposables: vscode.Disposable[] = [];
    const done = (value: Answer<T>): void => {
      if (settled) return;
      settled = true;
      for (const d of disposables) d.dispose();
      input.dispose();
      resolve(value);
    };
    disposables.push(
      ...listen(done),
      input.onDidHide(() => done(undefined)),
    );
    input.show();
  });
}

/** The profile rules' message for one field of a draft profile, or undefined when that field is fine. */
export function fieldProblem(draft: Record<string, unknown>, field: string): string | undefined {
  const result = BrokerProfileSchema.safeParse(draft);
  if (!result.success) return result.error.issues.find((issue) => issue.path[0] === field)?.message;
  // A well-formed profile may still point where the venue trades real money while not live: said at the step
  // that typed it (the live host, the live port), not after every step when the profile is saved.
  try {
    parseBrokerProfile(draft);
  } catch (e) {
    if (e instanceof BrokerProfileError && e.fields.includes(field)) return e.message;
  }
  return undefined;
}
