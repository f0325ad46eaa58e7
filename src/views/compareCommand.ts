/**
 * "Compare Venues" (issue 15): the trader picks venues (the paper venue and connected-or-connectable
 * paper, practice and testnet profiles; live profiles are never offered and refused if named), the
 * component runs once, and its order goes to each venue at the same moment through the engine — the
 * same use case as `sptrader compare` (src/usecases/compare.ts). The Compare Venues panel sets the
 * outcomes side by side. A routed component is compared over its route's candidates with the router's pick
 * shown; a parent is carried out on each venue and its children's fills compared.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { systemClock } from '../common/clock';
import type { BrokerApi } from '../brokers/broker';
import { presumptiveFees, type BrokerProfile } from '../brokers/registry';
import { Commands } from '../constants';
import { compareVenues, type CompareOutcome } from '../usecases/compare';
import { ComparePanel } from './comparePanel';
import { compareViewOf, withUnconnected } from './compareView';
import { withDelayedProgress } from './progress';
import { PAPER_PROFILE_ID } from './profiles';
import type { ViewServices } from './services';
import { registerCommand } from './shellHooks';
import { componentTarget } from './testOrderCommand';
import { rememberedStrings } from './workspaceMemory';

/** What Compare Venues needs of the editor's core: profiles, the engine, venues, a Python worker. */
type CompareServices = Pick<ViewServices, 'context' | 'log' | 'session' | 'profiles' | 'paper' | 'interpreters'>;

/** The workspace remembers the venues last compared, and picks them again. */
const LAST_VENUES = 'sptrader.compare.lastVenues';

export function registerCompareCommand(host: CompareServices): ComparePanel {
  const { context, log } = host;
  const panel = new ComparePanel(
    context.extensionUri,
    {
      runAgain: (view) =>
        vscode.commands.executeCommand(
          Commands.compareVenues,
          vscode.Uri.file(view.file),
          view.className ?? undefined,
          view.columns.map((c) => c.id),
        ),
    },
    log,
  );
  context.subscriptions.push(panel);

  const going = new Set<string>();
  const run = async (
    uri?: vscode.Uri,
    className?: unknown,
    venueIds?: unknown,
  ): Promise<CompareOutcome | undefined> => {
    const target = await componentTarget('Compare Venues', uri);
    if (!target) return undefined;
    // A second request while the comparison goes (a double-click) would send the order to every venue again.
    const key = `${target.fsPath}\u0000${typeof className === 'string' ? className : ''}`;
    if (going.has(key)) {
      log.info(`Compare Venues ${target.fsPath}: already running; the second request is ignored`);
      void vscode.window.showInformationMessage(
        `SPtrader: Compare Venues of ${typeof className === 'string' ? className : basename(target.fsPath)} is already running; its comparison shows in its panel when it ends.`,
      );
      return undefined;
    }
    going.add(key);
    try {
      return await compareOn(target, className, venueIds);
    } finally {
      going.delete(key);
    }
  };

  const compareOn = async (
    target: vscode.Uri,
    className: unknown,
    venueIds: unknown,
  ): Promise<CompareOutcome | undefined> => {
    const profiles = host.profiles.profiles();
    let chosen: BrokerProfile[] | undefined;
    if (Array.isArray(venueIds) && venueIds.every((v) => typeof v === 'string')) {
      // Each venue once: a venue named twice would be sent the order twice.
      const twice = venueIds.find((id, i) => venueIds.indexOf(id) !== i);
      if (twice !== undefined) {
        void vscode.window.showErrorMessage(
          `SPtrader: Compare Venues: the venue "${twice}" is named twice; each venue is compared once. Nothing was sent.`,
        );
        return undefined;
      }
      chosen = [];
      for (const id of venueIds) {
        const profile = profiles.find((p) => p.id === id);
        if (!profile) {
          void vscode.window.showErrorMessage(
            `SPtrader: Compare Venues: there is no broker profile "${id}"; add it with "SPtrader: Add Broker Profile" or choose among ${profiles.map((p) => p.id).join(', ')}.`,
          );
          return undefined;
        }
        chosen.push(profile);
      }
    } else {
      const last = context.workspaceState.get<unknown>(LAST_VENUES);
      chosen = await pickVenues(profiles, last === undefined ? [PAPER_PROFILE_ID] : rememberedStrings(last));
    }
    if (!chosen || chosen.length === 0) return undefined;
    // Never live: refused before anything runs, connects or sends (the use case refuses too).
    const live = chosen.filter((p) => p.environment === 'live');
    if (live.length > 0) {
      void vscode.window.showErrorMessage(
        `SPtrader: Compare Venues never sends to a live account (${live.map((p) => p.id).join(', ')}); choose paper, practice or testnet profiles.`,
      );
      return undefined;
    }
    await context.workspaceState.update(
      LAST_VENUES,
      chosen.map((p) => p.id),
    );
    const name = typeof className === 'string' ? className : undefined;
    panel.setRunning(true);
    let outcome: CompareOutcome;
    try {
      outcome = await withDelayedProgress(
        `SPtrader: Compare Venues${name ? ` ${name}` : ''} on ${chosen.map((p) => p.id).join(', ')}`,
        async () => {
          const runner = await host.interpreters.workerFor(target);
          const { engine, audit } = await host.session.trading();
          // Each profile connects (and registers with the engine) at once; one that cannot stays a column that says why.
          const failed = new Map<string, string>();
          const venues: BrokerApi[] = [];
          const connected = await Promise.all(
            chosen.map(async (p) => {
              if (p.id === PAPER_PROFILE_ID) return host.paper;
              try {
                return await host.profiles.connectProfile(p.id);
              } catch (e) {
                failed.set(p.id, e instanceof Error ? e.message : String(e));
                return undefined;
              }
            }),
          );
          for (const b of connected) if (b) venues.push(b);
          const result =
            venues.length > 0
              ? await compareVenues(
                  { file: target.fsPath, className: name },
                  {
                    runner,
                    venues,
                    engine,
                    clock: systemClock,
                    audit,
                    // A routed order: the router's choice over the compared venues, by each profile's fee schedule.
                    fees: (id, instrument) => {
                      const kind = host.profiles.profile(id)?.broker;
                      return kind === undefined ? undefined : presumptiveFees(kind, instrument);
                    },
                  },
                )
              : undefined;
          return withUnconnected(result, chosen, failed, target.fsPath);
        },
      );
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.error(`Compare Venues failed: ${message}`);
      void vscode.window.showErrorMessage(`SPtrader: Compare Venues: ${message}`);
      return undefined;
    } finally {
      panel.setRunning(false);
    }
    log.info(
      `Compare Venues ${target.fsPath}: ${outcome.summary}\n${outcome.venues
        .map((c) => `  ${c.id}: ${c.verdict}${c.code ? ` ${c.code}` : ''}${c.reason ? `: ${c.reason}` : ''}`)
        .join('\n')}`,
    );
    panel.show(compareViewOf(outcome, { ranAt: systemClock.now() }));
    const show = outcome.ok ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
    void show(`SPtrader Compare Venues: ${outcome.summary}`, 'Show Log').then((choice) => {
      if (choice) log.show();
    });
    return outcome;
  };

  context.subscriptions.push(
    registerCommand(Commands.compareVenues, (uri?: vscode.Uri, className?: unknown, venues?: unknown) =>
      run(uri, className, venues),
    ),
  );
  return panel;
}

/**
 * The venues to compare: the paper venue and every paper, practice or testnet profile, those chosen
 * last time picked again. Live profiles are not offered (the title says so).
 */
async function pickVenues(profiles: readonly BrokerProfile[], last: readonly string[]): Promise<BrokerProfile[]> {
  const offered = profiles.filter((p) => p.environment !== 'live');
  const live = profiles.filter((p) => p.environment === 'live');
  const items = offered.map((p) => ({
    label: p.displayName ?? p.id,
    description: p.id === PAPER_PROFILE_ID ? 'the embedded paper venue' : `${p.id} · ${p.broker} · ${p.environment}`,
    picked: last.includes(p.id),
    profile: p,
  }));
  const never = live.length > 0 ? `; live profiles are never offered: ${live.map((p) => p.id).join(', ')}` : '';
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: `SPtrader: Compare Venues (paper, practice and testnet only${never})`,
    placeHolder: 'Venues to send the order to at the same moment',
    ignoreFocusOut: true,
  });
  return picked?.map((i) => i.profile) ?? [];
}
