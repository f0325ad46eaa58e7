/**
 * Parent orders in the editor (issue 15): the engine's ParentOrders (src/execution/algos/parents.ts, the
 * same as `sptrader algo`) over the editor's trading session. Opened with the session, it rebuilds the
 * parents a closed window left working from the audit log (their emulated triggers survive a restart),
 * then advances the working ones on a timer and after their children's engine events. The views (the
 * result panel, the Open Orders tree) follow parents through `onDidChange`.
 */
import * as vscode from 'vscode';
import { systemClock } from '../common/clock';
import type { BrokerApi } from '../brokers/broker';
import type { ParentSpec } from '../execution/algos/dialect';
import { describeParent, ParentOrders, type ParentOrder } from '../execution/algos/parents';
import type { TradingSession } from '../usecases/session';
import type { ParentAccess, ProfileAccess, SessionAccess } from './services';

/** How often working parents are advanced (a trailing stop reads its venue's quote each time). */
const POLL_MS = 500;

export class EditorParents implements ParentAccess, vscode.Disposable {
  private parents: Promise<ParentOrders> | undefined;
  private opened: ParentOrders | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<ParentOrder>();
  /** A parent started, sent a child, moved its trail or ended. */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly session: Pick<SessionAccess, 'trading' | 'onDidOpenSession' | 'onEngineEvent'>,
    private readonly venues: Pick<ProfileAccess, 'brokers'>,
  ) {
    this.disposables.push(
      session.onDidOpenSession((opened) => {
        this.parents = this.open(opened);
        this.parents.catch((e: unknown) =>
          log.error(`Parent orders: could not restore from the audit log: ${(e as Error).message}`),
        );
      }),
      session.onEngineEvent((e) => {
        // A child's news, or a halt (the parents end, their children cancelled by the stop).
        if (('clientOrderId' in e && e.clientOrderId.startsWith('pa-')) || e.type === 'TradingStateChanged')
          this.kick();
      }),
    );
  }

  /** Starts a parent on a venue of the session: written to the audit log, its first children sent. */
  async start(spec: ParentSpec, venue: string): Promise<ParentOrder> {
    const parents = await this.ready();
    const started = await parents.start(spec, venue);
    this.schedule();
    return started;
  }

  /** Cancels a parent: its working children are cancelled, then it ends CANCELLED. */
  async cancel(parentId: string): Promise<ParentOrder | undefined> {
    const parents = await this.ready();
    await parents.cancel(parentId, 'cancelled from the editor');
    return parents.get(parentId);
  }

  /** Every parent this window knows (started here, or restored working), for the views; none before the session opens. */
  list(): ParentOrder[] {
    return this.opened?.list() ?? [];
  }

  get(parentId: string): ParentOrder | undefined {
    return this.opened?.get(parentId);
  }

  private ready(): Promise<ParentOrders> {
    if (this.parents) return this.parents;
    // The session opens first; its onDidOpenSession handler sets `parents`.
    return this.session.trading().then(() => {
      if (!this.parents) throw new Error('the trading session opened without its parent orders');
      return this.parents;
    });
  }

  private async open(session: TradingSession): Promise<ParentOrders> {
    this.opened?.dispose();
    this.opened = undefined;
    const venue = (id: string): BrokerApi => {
      const broker = this.venues.brokers.get(id);
      if (!broker?.isConnected())
        throw new Error(`venue ${id} is not connected: connect its profile in Broker Profiles`);
      return broker;
    };
    const parents = new ParentOrders({
      engine: session.engine,
      audit: session.audit,
      clock: systemClock,
      instrument: (v, s) => venue(v).getInstrument(s),
      quote: (v, s) => venue(v).getQuote(s),
      capabilities: (v) => this.venues.brokers.get(v)?.capabilities,
      onChange: (event, parent) => {
        if (event === 'ParentStarted' || event === 'ParentEnded')
          this.log.info(`${event}: ${describeParent(parent)}${parent.reason ? ` (${parent.reason})` : ''}`);
        this.changed.fire(parent);
      },
    });
    const working = await parents.restore(session.audit.dir);
    this.opened = parents;
    if (working.length > 0) {
      this.log.info(
        `Parent orders left working, carried on from the audit log: ${working.map(describeParent).join('; ')}`,
      );
      for (const p of working) this.changed.fire(p);
    }
    this.schedule();
    return parents;
  }

  /** Advances the parents now (coalesced with a pass already running). */
  private kick(): void {
    const parents = this.opened;
    if (!parents) return;
    parents.poll().then(
      () => this.schedule(),
      (e: unknown) => this.log.error(`Parent orders: ${(e as Error).message}`),
    );
  }

  /** A timer only while a parent works. */
  private schedule(): void {
    const working = this.opened?.list().some((p) => p.state === 'WORKING') === true;
    if (working && !this.timer) {
      this.timer = setInterval(() => this.kick(), POLL_MS);
      this.timer.unref();
    } else if (!working && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.opened?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
