/**
 * The venues of the user's broker profiles: built on first connect with the profile's SecretStorage
 * credentials, registered with the engine and reconciled; a venue that fails to connect is rolled back
 * (unregistered and disconnected) unless it still has working orders. The paper venue is always there.
 */
import * as vscode from 'vscode';
import type { BrokerApi } from '../brokers/broker';
import type { CredentialSource } from '../brokers/credentials';
import type { PaperBroker } from '../brokers/paper/paperBroker';
import { createBroker, type BrokerProfile } from '../brokers/registry';
import { systemClock } from '../common/clock';
import { credentialBinding, secretStorageCredentials } from './credentials';
import type { EditorSettings } from './editorSettings';
import { asProfileVenue, PAPER_PROFILE_ID } from './profiles';
import type { ProfileAccess, SessionAccess } from './services';

export class ProfileVenues implements ProfileAccess, vscode.Disposable {
  /** The venues registered with the engine, by profile id: the paper venue always, others once connected. */
  private readonly venues = new Map<string, BrokerApi>();
  private readonly profilesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeProfiles = this.profilesChanged.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
    private readonly settings: EditorSettings,
    private readonly session: Pick<SessionAccess, 'trading' | 'openSession'>,
    paper: PaperBroker,
    /** The state folder, where a paper profile other than the built-in one keeps its account. */
    private readonly stateDir: string,
  ) {
    this.venues.set(PAPER_PROFILE_ID, paper);
  }

  get brokers(): ReadonlyMap<string, BrokerApi> {
    return this.venues;
  }

  profiles(): readonly BrokerProfile[] {
    return this.settings.profiles();
  }

  profile(id: string): BrokerProfile | undefined {
    return this.settings.profile(id);
  }

  liveEnabled(): boolean {
    return this.settings.liveEnabled();
  }

  /** Tells the views that the profiles in the settings changed. */
  changed(): void {
    this.profilesChanged.fire();
  }

  /**
   * A profile's credentials: the SecretStorage entries bound to its venue, environment and endpoint
   * (views/credentials.ts). Every profile here comes from the user's settings, so a value stored by an
   * earlier version under the profile id alone is adopted for it.
   */
  credentialsFor(profile: BrokerProfile): CredentialSource {
    return secretStorageCredentials(this.secrets, credentialBinding(profile), { adoptLegacy: true });
  }

  async connectProfile(id: string): Promise<BrokerApi> {
    const { engine } = await this.session.trading();
    const existing = this.venues.get(id);
    if (existing?.isConnected() && engine.hasBroker(id)) return existing;
    const profile = this.profile(id);
    if (!profile)
      throw new Error(
        `there is no broker profile "${id}": add it with "SPtrader: Add Broker Profile" or fix it in the setting sptrader.brokerProfiles`,
      );
    const broker =
      existing ??
      asProfileVenue(
        createBroker(profile, {
          clock: systemClock,
          credentials: this.credentialsFor(profile),
          stateDir: this.stateDir,
        }),
        profile,
      );
    if (!engine.hasBroker(id)) engine.addBroker(id, broker);
    this.venues.set(id, broker);
    try {
      await engine.connect(id);
    } catch (e) {
      if (id !== PAPER_PROFILE_ID) {
        // A venue that failed to connect is dropped so the next attempt starts afresh, unless it still has working orders.
        try {
          engine.removeBroker(id);
          this.venues.delete(id);
        } catch {
          /* kept registered: its working orders need it */
        }
        await broker.disconnect().catch(() => undefined);
      }
      this.profilesChanged.fire();
      throw e;
    }
    this.log.info(`Connected broker profile ${id} (${broker.environment})`);
    this.profilesChanged.fire();
    return broker;
  }

  async disconnectProfile(id: string): Promise<void> {
    if (id === PAPER_PROFILE_ID)
      throw new Error('the built-in paper profile stays connected (reset it with "SPtrader: Reset Paper Account")');
    const broker = this.venues.get(id);
    if (!broker) return;
    const engine = this.session.openSession?.engine;
    if (engine?.hasBroker(id)) engine.removeBroker(id);
    this.venues.delete(id);
    try {
      await broker.disconnect();
    } finally {
      this.log.info(`Disconnected broker profile ${id}`);
      this.profilesChanged.fire();
    }
  }

  /** Disconnects every venue (the paper venue included). */
  async disconnectAll(): Promise<void> {
    await Promise.allSettled([...this.venues.values()].map((b) => b.disconnect()));
  }

  dispose(): void {
    this.profilesChanged.dispose();
  }
}
