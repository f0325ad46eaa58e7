/**
 * What every CLI command and editor session pays before anything else since issue 11: opening a state
 * directory reads the whole audit log once, verifying its chain and gathering the digest (unfinished
 * orders, positions, fills, the last trading state), then checks the state files against it and
 * reconciles the paper venue. Measured over logs of growing size, beside the floor of reading and
 * hashing the same bytes (`verifyAuditDir`, which opening did before) in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PaperBroker } from '../src/brokers/paper/paperBroker';
import { TestClock } from '../src/common/clock';
import { verifyAuditDir } from '../src/execution/audit/auditVerify';
import { openTradingSession } from '../src/usecases/session';
import { DEFAULT_CIRCUIT_BREAKER } from '../src/execution/tradingState';
import type { RiskLimits } from '../src/execution/risk';
import { FixedQuotes, order } from '../test/unit/paper/helpers';

const LOOSE: RiskLimits = {
  maxOrderQuantity: 1e9,
  maxPositionQuantity: 1e12,
  maxOrderNotional: 1e12,
  priceCollarBps: 5000,
  maxOpenOrders: 100_000,
};

export async function benchOpen(): Promise<void> {
  console.log('\n## Opening a state directory (digest + checks + reconcile) vs reading and verifying its log');
  for (const orders of [1_000, 10_000]) {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-bench-open-'));
    try {
      const clock = new TestClock();
      const quotes = new FixedQuotes();
      const settings = { limits: LOOSE, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
      const paper = (): PaperBroker =>
        new PaperBroker({ clock, quotes, stateFile: join(dir, 'paper-account.json'), startingCash: 1e12 });
      const s = await openTradingSession({ stateDir: dir, clock, brokers: { paper: paper() }, settings });
      await s.engine.connect('paper');
      // Orders that trade (market, alternating sides) and some that rest: what a working account holds.
      const batch: Array<Promise<unknown>> = [];
      for (let i = 0; i < orders; i++) {
        const o =
          i % 10 === 9 ? order('buy', 1, { type: 'limit', price: 50 }) : order(i % 2 === 0 ? 'buy' : 'sell', 10);
        batch.push(s.engine.submitOrder(o, 'paper'));
        if (batch.length >= 256) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);
      await s.close();
      const lines = (await verifyAuditDir(join(dir, 'audit'))).lines;
      const runs = 5;
      const floor: number[] = [];
      const opened: number[] = [];
      for (let r = 0; r < runs; r++) {
        let t = performance.now();
        await verifyAuditDir(join(dir, 'audit'));
        floor.push(performance.now() - t);
        t = performance.now();
        const again = await openTradingSession({ stateDir: dir, clock, brokers: { paper: paper() }, settings });
        await again.engine.connect('paper');
        opened.push(performance.now() - t);
        if (again.damage.length > 0) throw new Error(`bench state reads as damaged: ${again.damage[0]?.message}`);
        await again.close();
      }
      const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
      console.log(
        `${orders.toLocaleString('en-US')} orders (${lines.toLocaleString('en-US')} audit records, ${Math.round(orders / 10)} resting): open + reconcile p50 ${med(opened).toFixed(1)} ms; floor (verify the log alone) ${med(floor).toFixed(1)} ms; ratio ${(med(opened) / med(floor)).toFixed(2)}×`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
