/**
 * Broker profiles as the editor keeps them: the `sptrader.brokerProfiles` setting (non-secret data only)
 * plus the built-in paper profile. Pure (no `vscode`), so the parsing and the wording are unit-tested.
 */
import { formatMoney } from '../usecases/describeOrder';
import { delegatingBroker, type BrokerApi, type BrokerEnvironment } from '../brokers/broker';
import type { CredentialKey } from '../brokers/credentials';
import {
  alpacaDataUrlProblem,
  BROKER_ENVIRONMENTS,
  BrokerProfileError,
  parseBrokerProfile,
  type BrokerKind,
  type BrokerProfile,
} from '../brokers/registry';
import { describeOrderType, type AccountInfo, type OrderRequest } from '../orders/model';
import type { RiskCheckResult } from '../execution/risk';

export const PAPER_PROFILE_ID = 'paper';

/** The embedded paper venue: always there, never in settings. */
export const PAPER_PROFILE: BrokerProfile = {
  id: PAPER_PROFILE_ID,
  broker: 'paper',
  environment: 'paper',
  displayName: 'Paper',
};

export interface ProfileProblem {
  /** Position in the settings array. */
  readonly index: number;
  readonly id: string | undefined;
  readonly fields: readonly string[];
  readonly message: string;
}

export interface ProfileList {
  /** The paper profile first, then every valid profile from settings in their order. */
  readonly profiles: readonly BrokerProfile[];
  /** Entries that were skipped, each with what to fix. */
  readonly problems: readonly ProfileProblem[];
}

/**
 * The `sptrader.activeProfile` setting as a profile id: empty or unset is the paper profile; a value that is
 * not text (VS Code hands over what settings.json holds) is the paper profile too, with a problem naming the
 * setting, so that a run meant for another profile is not sent to "5" or "[object Object]", or quietly to paper.
 */
export function activeProfileOf(value: unknown): { id: string; problem?: string } {
  if (value === undefined || value === null || value === '') return { id: PAPER_PROFILE_ID };
  if (typeof value === 'string' && value.trim() !== '') return { id: value.trim() };
  const shown =
    typeof value === 'string'
      ? 'blank text'
      : Array.isArray(value)
        ? 'a list'
        : typeof value === 'object'
          ? 'an object'
          : JSON.stringify(value);
  return {
    id: PAPER_PROFILE_ID,
    problem: `sptrader.activeProfile must be a profile id such as "${PAPER_PROFILE_ID}", not ${shown}; choose one with "SPtrader: Select Profile"`,
  };
}

/** Parses the `sptrader.brokerProfiles` setting; invalid or duplicate entries are skipped and reported. */
export function parseProfileList(raw: unknown): ProfileList {
  const profiles: BrokerProfile[] = [PAPER_PROFILE];
  const problems: ProfileProblem[] = [];
  if (raw === undefined || raw === null) return { profiles, problems };
  if (!Array.isArray(raw)) {
    problems.push({
      index: -1,
      id: undefined,
      fields: ['(setting)'],
      message: 'sptrader.brokerProfiles must be an array of profile objects',
    });
    return { profiles, problems };
  }
  raw.forEach((entry: unknown, index) => {
    const id =
      typeof entry === 'object' && entry !== null && 'id' in entry && typeof entry.id === 'string'
        ? entry.id
        : undefined;
    try {
      const profile = parseBrokerProfile(entry);
      if (profiles.some((p) => p.id === profile.id)) {
        const why = profile.id === PAPER_PROFILE_ID ? 'is the built-in paper profile' : 'is used by an earlier profile';
        problems.push({
          index,
          id,
          fields: ['id'],
          message: `broker profile "${profile.id}" is skipped: id ${why}; choose another id`,
        });
        return;
      }
      profiles.push(profile);
    } catch (e) {
      if (!(e instanceof BrokerProfileError)) throw e;
      problems.push({
        index,
        id,
        fields: e.fields,
        message: `${e.message} (sptrader.brokerProfiles[${index}]); it is skipped until fixed`,
      });
    }
  });
  return { profiles, problems };
}

/** A profile as saved in settings: defined fields only, in a stable order. */
export function profileSetting(profile: BrokerProfile): Record<string, string | number> {
  const out: Record<string, string | number> = {
    id: profile.id,
    broker: profile.broker,
    environment: profile.environment,
  };
  for (const key of ['displayName', 'baseUrl', 'dataUrl', 'host', 'port', 'clientId'] as const) {
    const value = profile[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The settings array with `profile` in place of the entry of the same id, or appended. */
export function upsertProfileSetting(current: unknown, profile: BrokerProfile): unknown[] {
  const list = Array.isArray(current) ? [...(current as unknown[])] : [];
  const at = list.findIndex((e) => typeof e === 'object' && e !== null && 'id' in e && e.id === profile.id);
  if (at >= 0) list[at] = profileSetting(profile);
  else list.push(profileSetting(profile));
  return list;
}

export interface CredentialPrompt {
  readonly key: CredentialKey;
  readonly label: string;
}

/** The secrets each venue needs, in the order they are asked. */
export const CREDENTIALS_BY_BROKER: Readonly<Record<BrokerKind, readonly CredentialPrompt[]>> = {
  paper: [],
  ib: [],
  oanda: [
    { key: 'oanda.token', label: 'OANDA API token' },
    { key: 'oanda.accountId', label: 'OANDA account id' },
  ],
  alpaca: [
    { key: 'alpaca.keyId', label: 'Alpaca API key id' },
    { key: 'alpaca.secretKey', label: 'Alpaca API secret key' },
  ],
  binance: [
    { key: 'binance.apiKey', label: 'Binance API key' },
    { key: 'binance.secret', label: 'Binance API secret' },
  ],
};

/** A venue's environments with the non-live ones first and live last. */
export function environmentChoices(broker: BrokerKind): BrokerEnvironment[] {
  const all = [...BROKER_ENVIRONMENTS[broker]];
  return [...all.filter((e) => e !== 'live'), ...all.filter((e) => e === 'live')];
}

/** One question of the Add/Edit Broker Profile wizard (views/profileWizard.ts). */
export type WizardStep =
  'broker' | 'environment' | 'id' | 'ibApplication' | 'host' | 'port' | 'clientId' | 'baseUrl' | 'dataUrl' | 'dataFeed';

/**
 * The wizard's questions for a venue, in order: what its "step n/N" counts. Editing keeps the venue and
 * the id (a profile's id names its credentials and its orders in the audit log), so it skips both.
 */
export function wizardSteps(broker: BrokerKind, editing: boolean): WizardStep[] {
  const venue: WizardStep[] =
    broker === 'ib'
      ? ['ibApplication', 'host', 'port', 'clientId']
      : broker === 'paper'
        ? []
        : broker === 'alpaca'
          ? ['baseUrl', 'dataUrl', 'dataFeed']
          : ['baseUrl'];
  return [...(editing ? [] : (['broker'] as const)), 'environment', ...(editing ? [] : (['id'] as const)), ...venue];
}

/** IB's usual local ports: TWS 7497 paper / 7496 live, IB Gateway 4002 paper / 4001 live. */
export function defaultIbPort(environment: BrokerEnvironment, app: 'tws' | 'gateway'): number {
  const live = environment === 'live';
  return app === 'tws' ? (live ? 7496 : 7497) : live ? 4001 : 4002;
}

/**
 * The venue's own addresses when a profile names none. They equal the adapters' defaults
 * (`OANDA_PRACTICE_URL`, `ALPACA_PAPER_URL`, … in `src/brokers/<venue>/connection.ts`; a unit test holds them
 * equal); they are written out here so that naming an endpoint does not load an adapter.
 */
export const DEFAULT_ENDPOINTS: Readonly<
  Record<'oanda' | 'alpaca' | 'binance', Readonly<Record<'live' | 'other', string>>>
> = {
  oanda: { other: 'https://api-fxpractice.oanda.com', live: 'https://api-fxtrade.oanda.com' },
  alpaca: { other: 'https://paper-api.alpaca.markets', live: 'https://api.alpaca.markets' },
  binance: { other: 'https://testnet.binance.vision', live: 'https://api.binance.com' },
};

/** Alpaca's market-data host when a profile names none (`ALPACA_DATA_URL` in `src/brokers/alpaca/connection.ts`; a unit test holds them equal). */
export const DEFAULT_ALPACA_DATA_ENDPOINT = 'https://data.alpaca.markets';

/** A URL in one spelling: origin and path, no trailing slash, host in lower case. */
function canonicalUrl(raw: string): string {
  const url = new URL(raw);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Where a profile's requests go, in one canonical spelling: the base URL (origin and path, no trailing
 * slash, host in lower case) or the venue's own address for its environment; `host:port` for IB. Credentials
 * are bound to it (see `credentialBinding`), and every prompt that asks for or sends them shows it.
 * Alpaca's market-data host, which receives the keys too, is `profileDataEndpoint`.
 */
export function profileEndpoint(profile: BrokerProfile): string {
  switch (profile.broker) {
    case 'paper':
      return 'the embedded paper venue';
    case 'ib': {
      const port = profile.port ?? (profile.environment === 'live' ? 7496 : 7497);
      return `${(profile.host ?? '127.0.0.1').toLowerCase()}:${port}`;
    }
    default:
      return canonicalUrl(
        profile.baseUrl ?? DEFAULT_ENDPOINTS[profile.broker][profile.environment === 'live' ? 'live' : 'other'],
      );
  }
}

/** Alpaca's market-data host (its `dataUrl`, else Alpaca's own) in the same spelling; undefined for other venues. */
export function profileDataEndpoint(profile: BrokerProfile): string | undefined {
  return profile.broker === 'alpaca' ? canonicalUrl(profile.dataUrl ?? DEFAULT_ALPACA_DATA_ENDPOINT) : undefined;
}

/** Every host a profile's credentials go to, for the views: the endpoint, and for Alpaca its market-data host beside it. */
export function profileHosts(profile: BrokerProfile): string {
  const data = profileDataEndpoint(profile);
  return data === undefined ? profileEndpoint(profile) : `${profileEndpoint(profile)}, market data ${data}`;
}

/**
 * Why a profile cannot connect as written, naming the field to add (an Alpaca profile whose trading host is
 * moved and whose market-data host is not); undefined when it can.
 */
export function profileConnectProblem(profile: BrokerProfile): string | undefined {
  const problem = alpacaDataUrlProblem(profile);
  return problem === undefined
    ? undefined
    : `${problem}. Edit it with "SPtrader: Edit Broker Profile" or in the setting sptrader.brokerProfiles`;
}

/** The venue under its profile id, so the engine and the audit log name the profile (two OANDA profiles stay apart). */
export function asProfileVenue(inner: BrokerApi, profile: BrokerProfile): BrokerApi {
  return delegatingBroker(inner, {
    id: profile.id,
    displayName: profile.displayName ?? `${inner.displayName} (${profile.id})`,
    // A paper profile's Test Order fills on a copy of its account, as the built-in paper venue's does.
    keepScratchCopy: profile.broker === 'paper',
  });
}

const amount = formatMoney;

/** Everything a person confirms before one live order: the whole order and the account it goes to. */
export function liveOrderSummary(
  order: OrderRequest,
  profile: BrokerProfile,
  account: Pick<AccountInfo, 'balance' | 'currency'>,
): string {
  const tif =
    order.time_in_force.type === 'GTD'
      ? `GTD until ${new Date(order.time_in_force.expires_at).toISOString()}`
      : order.time_in_force.type;
  const type =
    order.order_type.type === 'market' ? 'MARKET (no price limit)' : describeOrderType(order.order_type).toUpperCase();
  return [
    `${order.side.toUpperCase()} ${order.quantity} ${order.symbol}`,
    `Type: ${type}`,
    `Time in force: ${tif}`,
    `Account: profile "${profile.id}" (${profile.broker}, ${profile.environment}), balance ${amount(account.balance)} ${account.currency}`,
  ].join('\n');
}

/**
 * The quote and the checks a live confirmation lists, one check a line. Checks judged against a quote that was not the
 * live price (the venue's delayed market data, or a stale quote: `RiskCheckResult.delayedQuote`) say so, and so does
 * the quote line: the person confirming a live order must not take a quote minutes old for the market.
 */
export function liveCheckLines(
  risk: readonly Pick<RiskCheckResult, 'check' | 'passed' | 'limit' | 'actual' | 'delayedQuote'>[],
  quote: { readonly bid: unknown; readonly ask: unknown },
): { quote: string; checks: string } {
  const delayed = risk.some((r) => r.delayedQuote === true);
  const { bid, ask } = quote;
  const quoteLine =
    typeof bid === 'number' && typeof ask === 'number'
      ? `\nQuote when checked: bid ${bid} / ask ${ask}${delayed ? " (NOT the live price: the venue's DELAYED market data, some 15 minutes behind, or a STALE quote, market closed or halted or none for over a minute)" : ''}`
      : '';
  const checks = risk
    .map(
      (r) =>
        `${r.passed ? '✓' : '✗'} ${r.check}${r.actual === null ? '' : `: ${String(r.actual)}`}${r.limit === null ? '' : ` (limit ${String(r.limit)})`}${r.delayedQuote === true ? ', at the delayed quote' : ''}`,
    )
    .join('\n');
  return { quote: quoteLine, checks };
}
