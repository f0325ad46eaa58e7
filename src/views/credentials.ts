/**
 * Broker credentials in the editor's SecretStorage (the OS keychain). Values are never logged, shown or
 * written to settings.
 *
 * A stored credential is bound to where it may be sent: the profile id, its venue, its environment and
 * its endpoint (base URL, or host:port). The entry's name is derived from all four,
 * `sptrader.<profileId>.<binding>.<credentialKey>`, so a profile whose endpoint or environment is not the
 * one the value was entered for finds nothing, and the person is asked again, seeing the new endpoint.
 * A settings file that renames a venue's address can therefore never receive a token typed for another.
 * Alpaca's keys go to two hosts, trading and market data; a market-data host other than Alpaca's own
 * (`dataUrl`) is part of the binding too. With Alpaca's own data host the digest is the one an earlier
 * version computed from the four fields, so values stored before `dataUrl` existed are still found.
 */
import { createHash } from 'node:crypto';
import type * as vscode from 'vscode';
import type { BrokerEnvironment } from '../brokers/broker';
import type { CredentialKey, CredentialSource } from '../brokers/credentials';
import type { BrokerKind, BrokerProfile } from '../brokers/registry';
import { DEFAULT_ALPACA_DATA_ENDPOINT, profileDataEndpoint, profileEndpoint } from './profiles';

/** The part of `vscode.SecretStorage` used here (a fake in unit tests). */
export type SecretStore = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete'>;

/** What a stored credential is bound to. */
export interface CredentialBinding {
  readonly profileId: string;
  readonly broker: BrokerKind;
  readonly environment: BrokerEnvironment;
  /** As `profileEndpoint` spells it. */
  readonly endpoint: string;
  /** Alpaca only: its market-data host, which receives the keys too (as `profileDataEndpoint` spells it). */
  readonly dataEndpoint?: string;
}

export function credentialBinding(profile: BrokerProfile): CredentialBinding {
  const binding = {
    profileId: profile.id,
    broker: profile.broker,
    environment: profile.environment,
    endpoint: profileEndpoint(profile),
  };
  const dataEndpoint = profileDataEndpoint(profile);
  return dataEndpoint === undefined ? binding : { ...binding, dataEndpoint };
}

/**
 * A short stable digest of a binding (the version prefix lets a later rule change the fields without
 * collisions). A market-data host other than Alpaca's own is a sixth element; with Alpaca's own there are
 * five, as before `dataUrl` existed, so the two can never collide and older entries keep their names.
 */
export function bindingDigest(binding: CredentialBinding): string {
  const fields: string[] = [
    'sptrader-credential-binding-1',
    binding.profileId,
    binding.broker,
    binding.environment,
    binding.endpoint,
  ];
  if (binding.dataEndpoint !== undefined && binding.dataEndpoint !== DEFAULT_ALPACA_DATA_ENDPOINT)
    fields.push(binding.dataEndpoint);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}

/** Every host the binding's values are sent to: the endpoint, and Alpaca's market-data host beside it. */
export function bindingHosts(binding: CredentialBinding): string {
  return binding.dataEndpoint === undefined
    ? binding.endpoint
    : `${binding.endpoint}, market data ${binding.dataEndpoint}`;
}

export function secretName(binding: CredentialBinding, key: CredentialKey): string {
  return `sptrader.${binding.profileId}.${bindingDigest(binding)}.${key}`;
}

/** Where versions before the binding kept a value: by profile id alone. */
export function legacySecretName(profileId: string, key: CredentialKey): string {
  return `sptrader.${profileId}.${key}`;
}

/** One line naming the binding, for prompts and messages (no secret in it). */
export function describeBinding(binding: CredentialBinding): string {
  return `profile "${binding.profileId}" (${binding.broker}, ${binding.environment}) at ${bindingHosts(binding)}`;
}

export interface SecretStorageCredentialOptions {
  /**
   * Move a value stored by profile id alone (before bindings existed) to this binding on first read.
   * Only for a profile from the user's own settings: that is where such a value was meant to go.
   */
  readonly adoptLegacy?: boolean;
}

export function secretStorageCredentials(
  secrets: SecretStore,
  binding: CredentialBinding,
  options: SecretStorageCredentialOptions = {},
): CredentialSource {
  return {
    get: async (key) => {
      const bound = nonEmpty(await secrets.get(secretName(binding, key)));
      if (bound !== undefined || options.adoptLegacy !== true) return bound;
      const legacy = nonEmpty(await secrets.get(legacySecretName(binding.profileId, key)));
      if (legacy === undefined) return undefined;
      await secrets.store(secretName(binding, key), legacy);
      await secrets.delete(legacySecretName(binding.profileId, key));
      return legacy;
    },
    // Read as "missing credential <key>: set it by running …" in MissingCredentialError.
    describe: () =>
      `it by running 'SPtrader: Set Credentials' for profile ${binding.profileId}: credentials are kept per endpoint, and none are stored for ` +
      `${bindingHosts(binding)} (${binding.broker}, ${binding.environment})`,
  };
}

/** Stores one value for a binding; an empty value deletes the entry. */
export async function storeCredential(
  secrets: SecretStore,
  binding: CredentialBinding,
  key: CredentialKey,
  value: string,
): Promise<void> {
  if (value.trim() === '') await secrets.delete(secretName(binding, key));
  else await secrets.store(secretName(binding, key), value.trim());
}

/** The keys of `keys` that `source` has no value for. */
export async function missingCredentials(
  source: CredentialSource,
  keys: readonly CredentialKey[],
): Promise<CredentialKey[]> {
  const missing: CredentialKey[] = [];
  for (const key of keys) if ((await source.get(key)) === undefined) missing.push(key);
  return missing;
}

/** Deletes a binding's values (a profile moved to another endpoint: they can never be sent again). */
export async function forgetCredentials(
  secrets: SecretStore,
  binding: CredentialBinding,
  keys: readonly CredentialKey[],
): Promise<void> {
  for (const key of keys) await secrets.delete(secretName(binding, key));
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);
