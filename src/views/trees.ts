/**
 * The SPtrader sidebar: Positions, Open Orders and Broker Profiles. The trees read the engine and the
 * venues; they refresh when the engine reports a change (fills, cancels, reconciles), never on a timer.
 */
import * as vscode from 'vscode';
import { registerCommand } from './shellHooks';
import { Commands, Settings, Views } from '../constants';
import type { ViewServices } from './services';
import type { EngineEvent } from '../execution/events';
import { describeOrder, formatPrice, formatQuantity, precisionOf } from '../usecases/describeOrder';
import { averagePrice, filledQuantity, type OrderRecord } from '../execution/orderState';
import type { OrderResponse, Position } from '../orders/model';
import { accountLines, signedMoney, type AccountLine, type DayStart, type DayStartStore } from './accountSummary';
import { activeProfileOf, PAPER_PROFILE_ID, profileConnectProblem, profileHosts } from './profiles';
import { describeEmulation, describeParent, type ChildRef, type ParentOrder } from '../execution/algos/parents';

/** What these views use of the services the composition root hands out. */
type TreesServices = Pick<ViewServices, 'context' | 'session' | 'profiles' | 'parents'>;

export type PositionNode =
  | { readonly kind: 'venue'; readonly venue: string }
  | { readonly kind: 'position'; readonly venue: string; readonly position: Position; readonly currency: string }
  | { readonly kind: 'account'; readonly venue: string; readonly line: AccountLine }
  | { readonly kind: 'message'; readonly text: string };

export type OrderNode =
  /** `role`: the order is a parent's child (entry, stop loss, slice…), shown under its parent. */
  | { readonly kind: 'order'; readonly record: OrderRecord; readonly role?: string }
  | { readonly kind: 'external'; readonly venue: string; readonly order: OrderResponse }
  /** A parent order (TWAP, iceberg, bracket, trailing stop) with its children under it. */
  | { readonly kind: 'parent'; readonly parent: ParentOrder }
  /** A child the engine no longer holds (final before a restart) or not sent yet: what the parent knows of it. */
  | { readonly kind: 'child'; readonly parent: ParentOrder; readonly child: ChildRef };

export interface ProfileNode {
  readonly kind: 'profile';
  readonly id: string;
}

/** Refreshes coalesced over this long, so a burst of fills redraws once. */
const REFRESH_COALESCE_MS = 100;

abstract class RefreshingTree<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<T | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;

  refresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire(undefined);
    }, REFRESH_COALESCE_MS);
  }

  abstract getTreeItem(node: T): vscode.TreeItem;
  abstract getChildren(node?: T): vscode.ProviderResult<T[]>;

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
  }
}

const number = (n: number, digits = 6): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Each venue's first equity of the UTC day, kept across restarts (for the Day P&L line). */
const DAY_START_KEY = 'sptrader.dayStartEquity';
function dayStartStore(memento: vscode.Memento): DayStartStore {
  const all = (): Record<string, DayStart> => memento.get<Record<string, DayStart>>(DAY_START_KEY) ?? {};
  return {
    get: (venue) => all()[venue],
    set: (venue, value) => void memento.update(DAY_START_KEY, { ...all(), [venue]: value }),
  };
}

export class PositionsTree extends RefreshingTree<PositionNode> {
  private openError: string | undefined;
  private readonly dayStarts: DayStartStore;

  constructor(private readonly services: TreesServices) {
    super();
    this.dayStarts = dayStartStore(services.context.globalState);
  }

  getTreeItem(node: PositionNode): vscode.TreeItem {
    if (node.kind === 'message') return new vscode.TreeItem(node.text);
    if (node.kind === 'account') {
      const { line } = node;
      const item = new vscode.TreeItem(line.label);
      item.id = `account:${node.venue}:${line.label}`;
      item.description = line.value;
      item.tooltip = `${line.label}: ${line.value}. ${line.tooltip}.`;
      const colour =
        line.sign === 1
          ? 'charts.green'
          : line.sign === -1
            ? 'charts.red'
            : line.sign === 0
              ? 'charts.foreground'
              : undefined;
      item.iconPath = new vscode.ThemeIcon(
        line.sign === undefined ? 'symbol-number' : 'graph-line',
        colour ? new vscode.ThemeColor(colour) : undefined,
      );
      item.accessibilityInformation = { label: `${line.label} ${line.value}` };
      item.contextValue = 'sptrader.accountLine';
      return item;
    }
    if (node.kind === 'venue') {
      const broker = this.services.profiles.brokers.get(node.venue);
      const item = new vscode.TreeItem(broker?.displayName ?? node.venue, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `venue:${node.venue}`;
      const live = broker?.environment === 'live';
      // A live account is never mistaken for a paper one: its word and icon say so.
      item.description = broker ? (live ? 'LIVE ACCOUNT' : broker.environment) : '';
      item.iconPath = live
        ? new vscode.ThemeIcon('flame', new vscode.ThemeColor('errorForeground'))
        : new vscode.ThemeIcon('server-environment');
      item.contextValue = 'sptrader.venue';
      return item;
    }
    const p = node.position;
    // The P&L is in the label, which the sidebar never cuts at its default width; the rest follows it.
    const item = new vscode.TreeItem(`${p.symbol} ${signedMoney(p.unrealized_pnl)} ${node.currency}`);
    item.id = `position:${node.venue}:${p.symbol}`;
    item.description = `${number(p.quantity)} @ ${number(p.average_price)} · now ${number(p.current_price)}`;
    const colour = p.unrealized_pnl > 0 ? 'charts.green' : p.unrealized_pnl < 0 ? 'charts.red' : 'charts.foreground';
    item.iconPath = new vscode.ThemeIcon(p.quantity > 0 ? 'arrow-up' : 'arrow-down', new vscode.ThemeColor(colour));
    item.tooltip = new vscode.MarkdownString(
      [
        `**${p.symbol}** at ${node.venue} (${p.quantity > 0 ? 'long' : 'short'})`,
        '',
        `| | |`,
        `|---|---|`,
        `| Quantity | ${number(p.quantity)} |`,
        `| Average price | ${number(p.average_price)} |`,
        `| Current price (mid) | ${number(p.current_price)} |`,
        `| Unrealized P&L | ${signedMoney(p.unrealized_pnl)} ${node.currency} |`,
      ].join('\n'),
    );
    item.accessibilityInformation = {
      label: `${p.symbol}: ${p.quantity} at average ${p.average_price}, now ${p.current_price}, unrealized profit and loss ${p.unrealized_pnl} ${node.currency}`,
    };
    item.contextValue = 'sptrader.position';
    return item;
  }

  async getChildren(node?: PositionNode): Promise<PositionNode[]> {
    if (!node) return [...this.services.profiles.brokers.keys()].map((venue) => ({ kind: 'venue', venue }));
    if (node.kind !== 'venue') return [];
    const broker = this.services.profiles.brokers.get(node.venue);
    if (!broker) return [];
    if (broker.isConnected()) this.openError = undefined;
    else if (this.services.session.openSession) {
      // The engine is open and this venue's link is down (a dropped connection, the paper fault switch).
      return [{ kind: 'message', text: `Not connected (link down): reconnect to see the account` }];
    } else {
      // The engine could not open (another window or sptrader process holds its state, say): say why.
      if (this.openError !== undefined) return [{ kind: 'message', text: this.openError }];
      void this.services.session.trading().then(
        () => this.refresh(),
        (e: unknown) => {
          // Kept until the engine opens (any SPtrader command tries again), not retried on every refresh.
          this.openError = `Not connected: ${e instanceof Error ? e.message : String(e)}`;
          this.refresh();
        },
      );
      return [{ kind: 'message', text: 'Connecting…' }];
    }
    try {
      const account = await broker.getAccountInfo();
      const lines: PositionNode[] = accountLines(node.venue, account, Date.now(), this.dayStarts).map((line) => ({
        kind: 'account',
        venue: node.venue,
        line,
      }));
      const positions = account.open_positions.filter((p) => p.quantity !== 0);
      if (positions.length === 0) return [...lines, { kind: 'message', text: 'No open positions' }];
      return [
        ...lines,
        ...positions.map((position): PositionNode => ({
          kind: 'position',
          venue: node.venue,
          position,
          currency: account.currency,
        })),
      ];
    } catch (e) {
      return [{ kind: 'message', text: `Cannot read positions: ${e instanceof Error ? e.message : String(e)}` }];
    }
  }
}

export class OpenOrdersTree extends RefreshingTree<OrderNode> {
  constructor(private readonly services: TreesServices) {
    super();
  }

  getTreeItem(node: OrderNode): vscode.TreeItem {
    if (node.kind === 'parent') {
      const p = node.parent;
      const item = new vscode.TreeItem(
        describeParent(p).slice(p.parentId.length + 1),
        vscode.TreeItemCollapsibleState.Expanded,
      );
      item.id = `parent:${p.parentId}`;
      item.description = `${p.state} · ${p.children.length} child${p.children.length === 1 ? '' : 'ren'} · ${p.venue}`;
      item.tooltip = `Parent order ${p.parentId} (${p.spec.algo.replace('_', ' ')}) at ${p.venue}: ${p.state}${p.reason ? ` (${p.reason})` : ''}${p.watermark === null ? '' : `; trail watermark ${p.watermark}`}\n${describeEmulation(p)}\nCancelling it cancels its working children.`;
      item.iconPath = new vscode.ThemeIcon('list-tree');
      item.contextValue = p.state === 'WORKING' ? 'sptrader.parent' : 'sptrader.parent.ended';
      return item;
    }
    if (node.kind === 'child') {
      const c = node.child;
      const s = node.parent.childStates[c.id];
      const item = new vscode.TreeItem(`${c.role.replace('_', ' ')}: ${describeOrder(c.order)}`);
      item.id = `child:${c.id}`;
      item.description = `${(s?.state ?? 'NOT_SENT').replace('_', ' ')}${s && s.filled > 0 ? ` ${formatQuantity(s.filled)}` : ''}`;
      item.tooltip = `Child ${c.index + 1} of parent ${node.parent.parentId} (client order id ${c.id})`;
      item.iconPath = new vscode.ThemeIcon(c.order.side === 'buy' ? 'arrow-up' : 'arrow-down');
      item.contextValue = 'sptrader.childOrder';
      return item;
    }
    if (node.kind === 'order') {
      const r = node.record;
      const o = r.request;
      const live = this.services.profiles.brokers.get(r.venue)?.environment === 'live';
      // Named by what it is ("BUY 10,000 EUR_USD LMT 1.0850 GTC"); the client id only in the tooltip.
      const item = new vscode.TreeItem(`${node.role ? `${node.role}: ` : ''}${describeOrder(o, { live })}`);
      item.id = `order:${r.clientOrderId}`;
      const filled = filledQuantity(r);
      const average = averagePrice(r);
      const precision = precisionOf(r.fills.map((f) => f.price));
      const fills =
        filled > 0
          ? ` ${formatQuantity(filled)} of ${formatQuantity(o.quantity)}${average === null ? '' : ` @ ${formatPrice(average, precision)}`}`
          : '';
      item.description = `${r.state.replace('_', ' ')}${fills} · ${r.venue}`;
      item.tooltip = `Client order id ${r.clientOrderId}${r.venueOrderId ? ` (venue id ${r.venueOrderId})` : ''}\nPlaced by SPtrader ${new Date(r.createdAt).toISOString()}`;
      item.iconPath = new vscode.ThemeIcon(o.side === 'buy' ? 'arrow-up' : 'arrow-down');
      item.contextValue = 'sptrader.order';
      return item;
    }
    const o = node.order;
    const item = new vscode.TreeItem(
      describeOrder(o, { live: this.services.profiles.brokers.get(node.venue)?.environment === 'live' }),
    );
    item.id = `external:${node.venue}:${o.order_id}`;
    const liveVenue = this.services.profiles.brokers.get(node.venue)?.environment === 'live';
    item.description = `${liveVenue ? 'LIVE · ' : ''}external · ${o.status.status.replace('_', ' ').toUpperCase()} · ${node.venue}`;
    item.tooltip = `Not placed by SPtrader (${o.client_order_id || o.order_id}): left alone; Emergency Stop cancels it too.`;
    item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    item.contextValue = 'sptrader.externalOrder';
    return item;
  }

  getChildren(node?: OrderNode): OrderNode[] {
    const session = this.services.session.openSession;
    if (!session) return [];
    const { engine } = session;
    if (node?.kind === 'parent') {
      // Every child, working or done, under its parent: the engine's record when it holds one.
      const parent = this.services.parents.get(node.parent.parentId) ?? node.parent;
      return parent.children.map((child): OrderNode => {
        const record = engine.getOrder(child.id);
        return record
          ? { kind: 'order', record, role: child.role.replace('_', ' ') }
          : { kind: 'child', parent, child };
      });
    }
    if (node) return [];
    // Working parents, and those that ended in the last ten minutes, with their children under them.
    const recent = Date.now() - 10 * 60_000;
    const parents = this.services.parents
      .list()
      .filter((p) => p.state === 'WORKING' || (p.children.length > 0 && p.startedAt >= recent));
    const children = new Set(parents.flatMap((p) => p.children.map((c) => c.id)));
    const external = engine.externalOrders().map(({ venue, order }): OrderNode => ({ kind: 'external', venue, order }));
    return [
      ...parents.map((parent): OrderNode => ({ kind: 'parent', parent })),
      ...engine
        .workingOrders()
        .filter((r) => !children.has(r.clientOrderId))
        .map((record): OrderNode => ({ kind: 'order', record })),
      ...external,
    ];
  }
}

export class ProfilesTree extends RefreshingTree<ProfileNode> {
  constructor(private readonly services: TreesServices) {
    super();
  }

  getTreeItem(node: ProfileNode): vscode.TreeItem {
    const profile = this.services.profiles.profile(node.id);
    const broker = this.services.profiles.brokers.get(node.id);
    const active = activeProfile() === node.id;
    const connected = broker?.isConnected() === true;
    const environment = profile?.environment ?? broker?.environment ?? 'unknown';
    const item = new vscode.TreeItem(profile?.displayName ?? node.id);
    item.id = `profile:${node.id}`;
    item.description = `${profile?.broker ?? ''} · ${environment} · ${connected ? 'connected' : 'not connected'}${active ? ' · active' : ''}`;
    const icon = environment === 'live' ? 'flame' : active ? 'pass-filled' : 'circle-large-outline';
    item.iconPath = new vscode.ThemeIcon(icon, connected ? new vscode.ThemeColor('charts.green') : undefined);
    const endpoint = profile ? `, ${profileHosts(profile)}` : '';
    const problem = profile ? profileConnectProblem(profile) : undefined;
    item.tooltip = `Profile "${node.id}" (${profile?.broker ?? 'unknown'}, ${environment}${endpoint}): ${connected ? 'connected' : 'not connected'}${active ? '; the active profile (Test Order uses it)' : ''}${problem === undefined ? '' : `. Cannot connect: ${problem}`}`;
    // Menus match on this: sptrader.profile.<builtin|connected|disconnected>[.active].
    const state = node.id === PAPER_PROFILE_ID ? 'builtin' : broker ? 'connected' : 'disconnected';
    item.contextValue = `sptrader.profile.${state}${active ? '.active' : ''}`;
    return item;
  }

  getChildren(node?: ProfileNode): ProfileNode[] {
    if (node) return [];
    return this.services.profiles.profiles().map((p) => ({ kind: 'profile', id: p.id }));
  }
}

export function activeProfile(): string {
  return activeProfileSetting().id;
}

/** The active profile's id, and what is wrong with the setting when it is not a profile id (see `activeProfileOf`). */
export function activeProfileSetting(): { id: string; problem?: string } {
  return activeProfileOf(vscode.workspace.getConfiguration(Settings.section).get<unknown>(Settings.activeProfile));
}

const POSITION_EVENTS: ReadonlySet<EngineEvent['type']> = new Set([
  'OrderFilled',
  'OrderPartiallyFilled',
  'PositionsReconciled',
]);

export interface Trees {
  positions: PositionsTree;
  orders: OpenOrdersTree;
  profiles: ProfilesTree;
}

export function registerTrees(services: TreesServices): Trees {
  const positions = new PositionsTree(services);
  const orders = new OpenOrdersTree(services);
  const profiles = new ProfilesTree(services);
  const positionsView = vscode.window.createTreeView(Views.positions, { treeDataProvider: positions });
  const ordersView = vscode.window.createTreeView(Views.openOrders, { treeDataProvider: orders });
  const updateOrderBadge = (): void => {
    const count =
      (services.session.openSession?.engine.workingOrders().length ?? 0) +
      services.parents.list().filter((p) => p.state === 'WORKING').length;
    ordersView.badge =
      count > 0 ? { value: count, tooltip: `${count} working order${count === 1 ? '' : 's'}` } : undefined;
  };
  services.context.subscriptions.push(
    positions,
    orders,
    profiles,
    positionsView,
    ordersView,
    vscode.window.createTreeView(Views.brokerProfiles, { treeDataProvider: profiles }),
    services.session.onEngineEvent((e) => {
      if (POSITION_EVENTS.has(e.type)) positions.refresh();
      if (e.type.startsWith('Order') || e.type === 'ExternalOrderFound' || e.type === 'PositionsReconciled') {
        orders.refresh();
        updateOrderBadge();
      }
      if (e.type === 'VenueError') profiles.refresh();
    }),
    services.parents.onDidChange(() => {
      orders.refresh();
      updateOrderBadge();
    }),
    services.profiles.onDidChangeProfiles(() => {
      profiles.refresh();
      positions.refresh();
    }),
    services.session.onDidOpenSession(() => {
      positions.refresh();
      orders.refresh();
      profiles.refresh();
      updateOrderBadge();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${Settings.section}.${Settings.activeProfile}`)) profiles.refresh();
    }),
    registerCommand(Commands.refreshPositions, () => positions.refresh()),
    registerCommand(Commands.refreshOrders, () => {
      orders.refresh();
      updateOrderBadge();
    }),
  );
  return { positions, orders, profiles };
}
