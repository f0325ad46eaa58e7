/**
 * What the editor's views are handed by the composition root (`container.ts`), as narrow interfaces: a
 * view registrar names the few services it uses (`Pick<ViewServices, ...>`) and never imports the
 * container, so the root depends on the views and nothing depends back on it.
 */
import type * as vscode from 'vscode';
import type { BrokerApi } from '../brokers/broker';
import type { CredentialSource } from '../brokers/credentials';
import type { PaperBroker } from '../brokers/paper/paperBroker';
import type { BrokerProfile } from '../brokers/registry';
import type { ParentSpec } from '../execution/algos/dialect';
import type { ParentOrder } from '../execution/algos/parents';
import type { EngineEvent } from '../execution/events';
import type { RecoverReport } from '../usecases/recover';
import type { TradingSession } from '../usecases/session';
import type { InterpreterService } from './interpreter';

/** The engine over the editor's state folder (opened once, on first use) and its events. */
export interface SessionAccess {
  /** The engine, opened (and the paper venue connected and reconciled) on first call. */
  trading(): Promise<TradingSession>;
  /** The engine when it is already open (views must not open it just to draw themselves). */
  readonly openSession: TradingSession | undefined;
  /** Fired when the engine has opened and connected its venues: views read their first state then. */
  readonly onDidOpenSession: vscode.Event<TradingSession>;
  /** Every engine event, fired once the engine is open. */
  readonly onEngineEvent: vscode.Event<EngineEvent>;
  /** Rebuilds damaged state files from the audit log (the session is closed and opened again around it). */
  recoverState(dryRun: boolean): Promise<RecoverReport>;
}

/** Broker profiles from the user's settings and the venues connected for them. */
export interface ProfileAccess {
  /** Every usable profile (paper first); invalid entries are reported once and skipped. */
  profiles(): readonly BrokerProfile[];
  profile(id: string): BrokerProfile | undefined;
  /** `sptrader.live.enabled` from the user's settings; a workspace cannot turn live trading on. */
  liveEnabled(): boolean;
  /** Venues registered with the engine by profile id (connected, or connecting). */
  readonly brokers: ReadonlyMap<string, BrokerApi>;
  /** Fired when a profile is added, changed, connected or disconnected. */
  readonly onDidChangeProfiles: vscode.Event<void>;
  /** Connects a profile's venue (built on first use with its SecretStorage credentials) and reconciles it. */
  connectProfile(id: string): Promise<BrokerApi>;
  /** Unregisters and disconnects a profile's venue; refused while it has working orders. */
  disconnectProfile(id: string): Promise<void>;
  /** A profile's credentials in SecretStorage. */
  credentialsFor(profile: BrokerProfile): CredentialSource;
}

/** Parent orders (TWAP, iceberg, bracket, trailing stop) carried out over the session (views/parentOrders.ts). */
export interface ParentAccess {
  /** Starts a parent on a venue; its children go through the engine. */
  start(spec: ParentSpec, venue: string): Promise<ParentOrder>;
  /** Cancels a working parent and its working children; undefined when there is no such parent. */
  cancel(parentId: string): Promise<ParentOrder | undefined>;
  list(): ParentOrder[];
  get(parentId: string): ParentOrder | undefined;
  /** Fired when a parent changes (a child sent or filled, the parent done or cancelled). */
  readonly onDidChange: vscode.Event<ParentOrder>;
}

/** Everything the composition root hands out; each registrar takes the `Pick` of it that it uses. */
export interface ViewServices {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly session: SessionAccess;
  readonly profiles: ProfileAccess;
  /** The built-in paper venue (always registered with the engine). */
  readonly paper: PaperBroker;
  readonly interpreters: InterpreterService;
  /** Parent orders (TWAP, iceberg, bracket, trailing stop) carried out over the session, and their news. */
  readonly parents: ParentAccess;
}
