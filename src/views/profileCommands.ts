/**
 * Broker profiles in the editor: add and edit (the wizard: profileWizard.ts), set credentials, connect,
 * disconnect and test.
 * Non-secret fields go to the global `sptrader.brokerProfiles` setting; secrets only to SecretStorage,
 * bound to the profile's venue, environment and endpoint (credentials.ts). Every prompt that asks for a
 * credential, and every confirmation before one is sent, names the endpoint (and for Alpaca its market-data
 * host, which receives the keys too). A profile that cannot connect as written (an Alpaca profile with a
 * `baseUrl` and no `dataUrl`) is refused before any credential is asked for or sent, naming the field.
 */
import * as vscode from 'vscode';
import { registerCommand } from './shellHooks';
import { isBrokerError } from '../brokers/errors';
import { parseBrokerProfile, type BrokerProfile } from '../brokers/registry';
import { Commands, Settings } from '../constants';
import type { ViewServices } from './services';
import {
  bindingDigest,
  bindingHosts,
  credentialBinding,
  describeBinding,
  forgetCredentials,
  missingCredentials,
  storeCredential,
} from './credentials';
import {
  CREDENTIALS_BY_BROKER,
  PAPER_PROFILE_ID,
  profileConnectProblem,
  profileHosts,
  upsertProfileSetting,
} from './profiles';
import type { ProfileNode } from './trees';
import { runProfileWizard } from './profileWizard';

/** What these views use of the services the composition root hands out. */
type ProfileCommandsServices = Pick<ViewServices, 'context' | 'log' | 'profiles'>;

export interface TestConnectionResult {
  profile: string;
  environment: string;
  balance: number;
  currency: string;
}

export function registerProfileCommands(services: ProfileCommandsServices): void {
  const { log } = services;
  const guard =
    <A extends unknown[], R>(name: string, run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R | undefined> => {
      try {
        return await run(...args);
      } catch (e) {
        const message = describeError(e);
        log.error(`${name} failed: ${message}`);
        void vscode.window.showErrorMessage(`SPtrader: ${name} failed: ${message}`);
        return undefined;
      }
    };

  const profileOf = async (
    node: ProfileNode | undefined,
    title: string,
    filter: (p: BrokerProfile) => boolean = () => true,
  ): Promise<BrokerProfile | undefined> => {
    // A tree item is what the view showed when it was drawn: its profile may be gone since, or not one this
    // command acts on (the built-in paper profile for Edit, a profile not connected for Disconnect).
    if (node?.kind === 'profile') {
      const profile = services.profiles.profile(node.id);
      if (!profile) {
        void vscode.window.showWarningMessage(
          `SPtrader: ${title.replace(/^SPtrader: /, '')}: there is no broker profile "${String(node.id)}" in your settings any more (sptrader.brokerProfiles).`,
        );
        return undefined;
      }
      if (!filter(profile)) {
        void vscode.window.showInformationMessage(
          `SPtrader: ${title.replace(/^SPtrader: /, '')} does not apply to the profile "${profile.id}"${profile.id === PAPER_PROFILE_ID ? ' (the built-in paper venue)' : ''}.`,
        );
        return undefined;
      }
      return profile;
    }
    const candidates = services.profiles.profiles().filter(filter);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(
        'SPtrader: no broker profile fits. Add one with "SPtrader: Add Broker Profile".',
      );
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((p) => ({
        label: p.displayName ?? p.id,
        description: `${p.id} · ${p.broker} · ${p.environment} · ${services.profiles.brokers.get(p.id)?.isConnected() ? 'connected' : 'not connected'}`,
        detail: `${profileHosts(p)}${profileConnectProblem(p) === undefined ? '' : ' · cannot connect: add dataUrl (the market-data URL)'}`,
        profile: p,
      })),
      { title, placeHolder: 'Broker profile' },
    );
    return picked?.profile;
  };

  const askCredentials = async (profile: BrokerProfile): Promise<number> => {
    const binding = credentialBinding(profile);
    const source = services.profiles.credentialsFor(profile);
    let stored = 0;
    for (const prompt of CREDENTIALS_BY_BROKER[profile.broker]) {
      const has = (await source.get(prompt.key)) !== undefined;
      const value = await vscode.window.showInputBox({
        title: `SPtrader: credentials for ${profile.id} at ${binding.endpoint}`,
        prompt: `${prompt.label} for ${bindingHosts(binding)} (${profile.broker}, ${profile.environment}); kept in the OS keychain, never in settings, and sent only there`,
        placeHolder: has ? 'Empty: keep the stored value' : 'Not stored yet for this endpoint',
        password: true,
        ignoreFocusOut: true,
      });
      if (value === undefined) break;
      if (value.trim() === '') continue;
      await storeCredential(services.context.secrets, binding, prompt.key, value);
      stored++;
    }
    log.info(`Credentials for ${describeBinding(binding)}: ${stored} value(s) stored in SecretStorage`);
    return stored;
  };

  /**
   * Before anything is sent for a profile: in a workspace that is not trusted, a confirmation naming the
   * endpoint; and when no credentials are stored for this endpoint, the offer to enter them (credentials
   * entered for another endpoint are never used). False: do not go on.
   */
  const readyToSend = async (profile: BrokerProfile, action: string): Promise<boolean> => {
    if (profile.broker === 'paper') return true;
    const problem = profileConnectProblem(profile);
    if (problem !== undefined) throw new Error(problem);
    const binding = credentialBinding(profile);
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage(
        `SPtrader: ${action} ${profile.id} from a workspace you have not trusted?`,
        {
          modal: true,
          detail:
            `This connects to ${bindingHosts(binding)} (${profile.broker}, ${profile.environment}) with the credentials stored for that endpoint. ` +
            'The profile comes from your user settings; settings of this workspace cannot change it.',
        },
        action,
      );
      if (choice !== action) return false;
    }
    const keys = CREDENTIALS_BY_BROKER[profile.broker].map((c) => c.key);
    if ((await missingCredentials(services.profiles.credentialsFor(profile), keys)).length === 0) return true;
    const enter = 'Enter Credentials';
    const choice = await vscode.window.showWarningMessage(
      `SPtrader: no credentials are stored for ${describeBinding(binding)}.`,
      {
        modal: true,
        detail:
          `Credentials are kept per venue, environment and endpoint: values entered for another address are never sent to ${bindingHosts(binding)}. ` +
          `Enter the credentials for this endpoint to ${action.toLowerCase()}?`,
      },
      enter,
    );
    if (choice !== enter) return false;
    await askCredentials(profile);
    return (await missingCredentials(services.profiles.credentialsFor(profile), keys)).length === 0;
  };

  const testConnection = async (profile: BrokerProfile): Promise<TestConnectionResult | undefined> => {
    if (!(await readyToSend(profile, 'Check Connection'))) return undefined;
    const wasConnected = services.profiles.brokers.get(profile.id)?.isConnected() === true;
    const broker = await services.profiles.connectProfile(profile.id);
    try {
      const account = await broker.getAccountInfo();
      const result = {
        profile: profile.id,
        environment: broker.environment,
        balance: account.balance,
        currency: account.currency,
      };
      log.info(
        `Test connection ${profile.id} (${broker.environment}): ok, balance ${account.balance} ${account.currency}`,
      );
      void vscode.window.showInformationMessage(
        `SPtrader: ${profile.id} (${broker.environment}) is reachable: balance ${account.balance.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${account.currency}.`,
      );
      return result;
    } finally {
      if (!wasConnected && profile.id !== PAPER_PROFILE_ID)
        await services.profiles.disconnectProfile(profile.id).catch(() => undefined);
    }
  };

  /**
   * Check Connection as the user meets it: a venue that cannot be reached is said as that (the profile named, saved
   * as it is, nothing sent), with what to do next: Retry, Edit Profile, or Set Credentials for a venue that takes
   * them. It read "Add Broker Profile failed: …" with no way on, after the saved profile's own prompt.
   */
  const checkConnection = async (profile: BrokerProfile): Promise<TestConnectionResult | undefined> => {
    for (;;) {
      let problem: string;
      try {
        return await testConnection(profile);
      } catch (e) {
        problem = describeError(e);
      }
      log.error(`Check Connection ${profile.id} failed: ${problem}`);
      const choices = ['Retry', ...(profile.id === PAPER_PROFILE_ID ? [] : ['Edit Profile'])];
      if (CREDENTIALS_BY_BROKER[profile.broker].length > 0) choices.push('Set Credentials');
      const choice = await vscode.window.showErrorMessage(
        `SPtrader: could not reach ${profile.id} (${profile.broker}, ${profile.environment}): ${problem}. The profile is saved as it is; nothing was sent.`,
        ...choices,
      );
      if (choice === 'Retry') continue;
      if (choice === 'Edit Profile') await wizard(profile);
      else if (choice === 'Set Credentials' && (await askCredentials(profile)) > 0) continue;
      return undefined;
    }
  };

  const saveProfile = async (profile: BrokerProfile): Promise<void> => {
    const config = vscode.workspace.getConfiguration(Settings.section);
    const current = config.inspect<unknown>(Settings.brokerProfiles)?.globalValue;
    await config.update(
      Settings.brokerProfiles,
      upsertProfileSetting(current, profile),
      vscode.ConfigurationTarget.Global,
    );
  };

  const wizard = async (existing?: BrokerProfile): Promise<void> => {
    const known = new Set(services.profiles.profiles().map((p) => p.id));
    const draft = await runProfileWizard(known, existing);
    if (!draft) return;
    const profile = parseBrokerProfile(draft);
    await saveProfile(profile);
    log.info(
      `Broker profile ${profile.id} saved (${profile.broker}, ${profile.environment}, ${bindingHosts(credentialBinding(profile))})`,
    );
    if (existing && bindingDigest(credentialBinding(existing)) !== bindingDigest(credentialBinding(profile))) {
      // Values bound to the old endpoint or environment can never be sent again: drop them from the keychain.
      await forgetCredentials(
        services.context.secrets,
        credentialBinding(existing),
        CREDENTIALS_BY_BROKER[existing.broker].map((c) => c.key),
      );
      log.info(
        `Credentials for ${describeBinding(credentialBinding(existing))} removed: the profile now points elsewhere`,
      );
    }
    if (existing && services.profiles.brokers.has(profile.id))
      void vscode.window.showInformationMessage(`SPtrader: ${profile.id} changes apply after Disconnect and Connect.`);
    if (CREDENTIALS_BY_BROKER[profile.broker].length > 0) await askCredentials(profile);
    const choice = await vscode.window.showInformationMessage(
      `SPtrader: broker profile "${profile.id}" saved.`,
      'Check Connection',
      'Set Active',
    );
    if (choice === 'Check Connection') await checkConnection(profile);
    if (choice === 'Set Active')
      await vscode.workspace
        .getConfiguration(Settings.section)
        .update(Settings.activeProfile, profile.id, vscode.ConfigurationTarget.Global);
  };

  services.context.subscriptions.push(
    registerCommand(
      Commands.addBrokerProfile,
      guard('Add Broker Profile', () => wizard()),
    ),
    registerCommand(
      Commands.editBrokerProfile,
      guard('Edit Broker Profile', async (node?: ProfileNode) => {
        const profile = await profileOf(node, 'SPtrader: Edit Broker Profile', (p) => p.id !== PAPER_PROFILE_ID);
        if (!profile) return;
        const how = await vscode.window.showQuickPick(['Edit step by step', 'Open settings.json'], {
          title: `Edit ${profile.id}`,
        });
        if (how === 'Edit step by step') await wizard(profile);
        else if (how)
          await vscode.commands.executeCommand('workbench.action.openSettingsJson', {
            revealSetting: { key: 'sptrader.brokerProfiles' },
          });
      }),
    ),
    registerCommand(
      Commands.setCredentials,
      guard('Set Credentials', async (node?: ProfileNode) => {
        const profile = await profileOf(
          node,
          'SPtrader: Set Credentials',
          (p) => CREDENTIALS_BY_BROKER[p.broker].length > 0,
        );
        if (!profile) return;
        if (CREDENTIALS_BY_BROKER[profile.broker].length === 0) {
          void vscode.window.showInformationMessage(
            `SPtrader: ${profile.id} (${profile.broker}) needs no credentials.`,
          );
          return;
        }
        const stored = await askCredentials(profile);
        if (stored > 0)
          void vscode.window.showInformationMessage(
            `SPtrader: ${stored} credential(s) for ${profile.id} stored in the OS keychain.`,
          );
      }),
    ),
    registerCommand(
      Commands.connectProfile,
      guard('Connect', async (node?: ProfileNode) => {
        const profile = await profileOf(node, 'SPtrader: Connect');
        if (!profile) return;
        if (!(await readyToSend(profile, 'Connect'))) return;
        const broker = await services.profiles.connectProfile(profile.id);
        void vscode.window.showInformationMessage(`SPtrader: ${broker.displayName} connected and reconciled.`);
      }),
    ),
    registerCommand(
      Commands.disconnectProfile,
      guard('Disconnect', async (node?: ProfileNode) => {
        const profile = await profileOf(
          node,
          'SPtrader: Disconnect',
          (p) => p.id !== PAPER_PROFILE_ID && services.profiles.brokers.has(p.id),
        );
        if (!profile) return;
        await services.profiles.disconnectProfile(profile.id);
      }),
    ),
    registerCommand(
      Commands.testConnection,
      guard('Check Connection', async (node?: ProfileNode) => {
        const profile = await profileOf(node, 'SPtrader: Check Connection');
        return profile ? checkConnection(profile) : undefined;
      }),
    ),
  );
}

/** A venue error with its reason (e.g. AUTHENTICATION), never a credential value (adapters redact them). */
function describeError(e: unknown): string {
  if (isBrokerError(e)) return `${e.reason}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
