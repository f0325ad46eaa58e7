/**
 * Broker credentials in the editor's SecretStorage (the OS keychain), one entry per profile and key:
 * `sptrader.<profileId>.<credentialKey>`. Values are never logged, shown or written to settings.
 */
import type * as vscode from 'vscode';
import type { CredentialKey, CredentialSource } from '../brokers/credentials';

/** The part of `vscode.SecretStorage` used here (a fake in unit tests). */
export type SecretStore = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete'>;

export function secretName(profileId: string, key: CredentialKey): string {
  return `sptrader.${profileId}.${key}`;
}

export function secretStorageCredentials(secrets: SecretStore, profileId: string): CredentialSource {
  return {
    get: async (key) => {
      const value = await secrets.get(secretName(profileId, key));
      return value === undefined || value.trim() === '' ? undefined : value;
    },
    // Read as "missing credential <key>: set it by running …" in MissingCredentialError.
    describe: () => `it by running 'SPtrader: Set Credentials' for profile ${profileId}`,
  };
}

/** Stores one value; an empty value deletes the entry. */
export async function storeCredential(secrets: SecretStore, profileId: string, key: CredentialKey, value: string): Promise<void> {
  if (value.trim() === '') await secrets.delete(secretName(profileId, key));
  else await secrets.store(secretName(profileId, key), value.trim());
}
