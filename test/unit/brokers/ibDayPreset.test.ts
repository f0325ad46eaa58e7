/**
 * An order TWS makes a DAY order by its preset. TWS API "Message Codes" 10349: "Order TIF was set to DAY based on
 * order preset." TWS takes the order and works it, but with the time in force of its order preset for the
 * instrument: a GTC order of ours then ends at the close (TWS cancels a DAY order at the end of the day). The
 * notice was taken as one of the many that change nothing, so the user learnt nothing until the order was gone.
 */
import * as assert from 'node:assert/strict';
import type { IbBroker } from '../../../src/brokers/ib/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import type { FakeTws } from '../../fakes/ib/server';
import { fakeTwsPerTest } from '../../kit/fakeTws';

const gtc = (client_order_id: string): PlacedOrderRequest => ({
  symbol: 'AAPL',
  side: 'buy',
  order_type: { type: 'limit', price: 100 },
  quantity: 10,
  time_in_force: { type: 'GTC' },
  metadata: {},
  client_order_id,
});

describe('IbBroker: an order TWS made a DAY order by its preset (10349)', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  const errors: string[] = [];

  fakeTwsPerTest(
    { clientId: 12, timeoutMs: 400, broker: { onError: (m: string) => errors.push(m) } },
    (rig) => void ({ fake, broker } = rig),
  );
  beforeEach(() => errors.splice(0));

  it('works on, and the user is told once that TWS will cancel it at the close, and what to change', async () => {
    const notice = 'Order TIF was set to DAY based on order preset.';
    fake.scriptNextOrder([
      { error: 10349, message: notice },
      { status: 'PreSubmitted' },
      { error: 10349, message: notice },
      { status: 'Submitted' },
    ]);
    const placed = await broker.submitOrder(gtc('ib-day-1'));
    assert.equal(placed.status.status, 'submitted');
    const said = errors.filter((e) => /10349/.test(e));
    assert.equal(said.length, 1, errors.join('\n'));
    assert.match(said[0]!, /client order id ib-day-1\) a DAY order by its order preset/);
    assert.match(said[0]!, /it was sent GTC, and TWS will cancel it at the end of the trading day/);
    assert.match(said[0]!, /Global Configuration → Presets/);
  });

  it('an order that TWS keeps as sent says nothing', async () => {
    fake.scriptNextOrder([{ status: 'PreSubmitted' }, { status: 'Submitted' }]);
    await broker.submitOrder(gtc('ib-day-2'));
    assert.deepEqual(
      errors.filter((e) => /DAY/.test(e)),
      [],
    );
  });
});
