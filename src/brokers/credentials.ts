/**
 * Credentials through one interface: the editor reads them from SecretStorage (the OS keychain), the
 * CLI from environment variables. Adapters receive a `CredentialSource` and ask for what they need at
 * connect time; they never log, store or echo a value, and errors name the *variable*, never its value.
 */
export type CredentialKey =
  'alpaca.keyId' | 'alpaca.secretKey' | 'oanda.token' | 'oanda.accountId' | 'binance.apiKey' | 'binance.secret';

/** Environment variables the CLI reads (documented in README). */
export const CREDENTIAL_ENV: Readonly<Record<CredentialKey, string>> = {
  'alpaca.keyId': 'SPTRADER_ALPACA_KEY_ID',
  'alpaca.secretKey': 'SPTRADER_ALPACA_SECRET_KEY',
  'oanda.token': 'SPTRADER_OANDA_TOKEN',
  'oanda.accountId': 'SPTRADER_OANDA_ACCOUNT_ID',
  'binance.apiKey': 'SPTRADER_BINANCE_API_KEY',
  'binance.secret': 'SPTRADER_BINANCE_SECRET',
};

export interface CredentialSource {
  /** The value, or undefined when it is not set. */
  get(key: CredentialKey): Promise<string | undefined>;
  /** Where a missing value should be set, for error messages ("environment variable X", "SPtrader: Set Credentials"). */
  describe(key: CredentialKey): string;
}

export class MissingCredentialError extends Error {
  override readonly name = 'MissingCredentialError';
  constructor(
    readonly key: CredentialKey,
    where: string,
  ) {
    super(`missing credential ${key}: set ${where}`);
  }
}

/** Reads `SPTRADER_*` variables (see `CREDENTIAL_ENV`). */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): CredentialSource {
  return {
    get: (key) => Promise.resolve(nonEmpty(env[CREDENTIAL_ENV[key]])),
    describe: (key) => `the environment variable ${CREDENTIAL_ENV[key]}`,
  };
}

/** Fixed values (tests, fakes). */
export function staticCredentials(values: Partial<Record<CredentialKey, string>>): CredentialSource {
  return { get: (key) => Promise.resolve(values[key]), describe: (key) => `credential ${key}` };
}

export async function requireCredential(source: CredentialSource, key: CredentialKey): Promise<string> {
  const value = await source.get(key);
  if (value === undefined) throw new MissingCredentialError(key, source.describe(key));
  return value;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);

/** Replaces every known secret value inside `text` (an error message from a venue or an SDK) with "[redacted]". */
export function redactValues(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

/** An account id as error messages may show it: its last four characters ("…1234"). */
export function maskAccountId(id: string): string {
  return `…${id.slice(-4)}`;
}

/**
 * Replaces every account id inside `text` (as is, and URL-encoded as it appears in a path such as
 * /v3/accounts/101-001-1234567-001/orders) with its masked form (`maskAccountId`). Ids shorter than
 * five characters are left alone: masking them would hide nothing and mangle ordinary words.
 */
export function maskAccountIds(text: string, ids: ReadonlyArray<string | undefined>): string {
  let out = text;
  const longestFirst = [...new Set(ids.filter((id): id is string => id !== undefined && id.length >= 5))].sort(
    (a, b) => b.length - a.length,
  );
  for (const id of longestFirst) {
    const masked = maskAccountId(id);
    out = out.split(id).join(masked);
    const encoded = encodeURIComponent(id);
    if (encoded !== id) out = out.split(encoded).join(masked);
  }
  return out;
}
