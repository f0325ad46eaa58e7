/**
 * An IB GTD order whose good-till date TWS reports in a time zone. TWS API "Orders", "Changes in the date/time field"
 * (TWS 10.17, API 10.18): "API allows UTC format "yyyymmdd-hh:mm:ss" in date/time fields. Example: 20220930-15:00:00"
 * and "API allows date/time field format with instrument's exchange timezone (for all non-operator fields) and
 * operator's time zone (for all fields). Example: IBM 20220930-15:00:00 US/Eastern". After a restart the adapter
 * knows an order only as TWS reports it (OPEN_ORDER, COMPLETED_ORDER); one whose goodTillDate named a zone was read
 * as GTC: it showed no expiry, and its end at that time was a plain cancel instead of an expiry.
 */
import * as assert from 'node:assert/strict';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { parseGoodTillDate } from '../../../src/brokers/ib/orders';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';

/** `ms` as TWS writes it in New York's wall-clock time, "yyyymmdd-hh:mm:ss US/Eastern". */
function easternText(ms: number): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}${parts.month}${parts.day}-${parts.hour}:${parts.minute}:${parts.second} US/Eastern`;
}

describe('IB: a good-till date TWS reports in a time zone (TWS API "Orders": date/time fields)', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let clock: TestClock;
  const brokers: IbBroker[] = [];

  const brokerOn = (): IbBroker => {
    const b = new IbBroker({
      clock,
      host: fake.host,
      port: fake.port,
      clientId: 9,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 60_000,
      onError: () => undefined,
    });
    brokers.push(b);
    return b;
  };

  beforeEach(async () => {
    clock = new TestClock(Math.floor(Date.now() / 1000) * 1000);
    fake = await startFakeTws();
    fake.setQuote('AAPL', 99, 101);
  });

  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.disconnect();
    await fake.close();
  });

  const gtd = (cid: string, expiresAt: number): PlacedOrderRequest => ({
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 90 },
    quantity: 100,
    time_in_force: { type: 'GTD', expires_at: expiresAt },
    metadata: {},
    client_order_id: cid,
  });

  /** Places the order from one process, TWS restates its expiry in New York time, a new process connects. */
  const restarted = async (cid: string, expiresAt: number, meanwhile: (id: number) => void = () => undefined) => {
    const before = brokerOn();
    await before.connect();
    const placed = await before.submitOrder(gtd(cid, expiresAt));
    assert.equal(placed.status.status, 'submitted');
    await before.disconnect();
    fake.restateGoodTillDate(Number(placed.order_id), easternText(expiresAt));
    meanwhile(Number(placed.order_id));
    const after = brokerOn();
    await after.connect();
    return after;
  };

  it('a working order is found with its expiry, read in New York time', async () => {
    const expiresAt = clock.now() + 3 * 3_600_000;
    const broker = await restarted('ib-gtdz-1', expiresAt);
    const found = await broker.getOrderByClientId('ib-gtdz-1');
    assert.deepEqual(found?.time_in_force, { type: 'GTD', expires_at: expiresAt });
  });

  it('ended by IB at that time while away: expired, not cancelled', async () => {
    const expiresAt = clock.now() + 60_000;
    const broker = await restarted('ib-gtdz-2', expiresAt, (id) => {
      clock.advance(61_000);
      assert.ok(fake.endOrder(id, 'Cancelled', 'Cancelled at its good-till date'));
    });
    const found = await broker.getOrderByClientId('ib-gtdz-2');
    assert.equal(found?.status.status, 'expired');
  });

  it('reads the forms the TWS API documents (pure)', () => {
    const at = Date.UTC(2022, 8, 30, 19, 0, 0); // 15:00 in New York (EDT)
    assert.equal(parseGoodTillDate('20220930-15:00:00 US/Eastern'), at);
    assert.equal(parseGoodTillDate('20220930 15:00:00 America/New_York'), at);
    assert.equal(parseGoodTillDate('20221230 15:00:00 US/Eastern'), Date.UTC(2022, 11, 30, 20, 0, 0), 'EST in winter');
    assert.equal(parseGoodTillDate('20220930 16:00:00 Europe/London'), Date.UTC(2022, 8, 30, 15, 0, 0));
    assert.equal(parseGoodTillDate('20220930-15:00:00'), Date.UTC(2022, 8, 30, 15, 0, 0), 'UTC form');
    assert.equal(parseGoodTillDate('20220930  15:00:00 UTC'), Date.UTC(2022, 8, 30, 15, 0, 0), 'two spaces');
    assert.equal(parseGoodTillDate('20220230 15:00:00 UTC'), undefined, '30 February');
    assert.equal(parseGoodTillDate('20220930 15:00:00 Nowhere/Land'), undefined, 'a zone nobody knows');
  });
});
