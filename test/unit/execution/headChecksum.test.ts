/**
 * The two files that record the audit log's head (working-orders.json's `audit`, audit/anchor.json) carry a
 * checksum (common/checksum.ts). Without it a flipped bit in the seq or hash they record was taken for the log's
 * own loss: "the log ends at seq 33, but working-orders.json saw it reach seq 43: 10 record(s) at its end were
 * removed", "the log was replaced by another copy or rewritten", and recover's "records past its end are lost",
 * when only the cache file was damaged and no record was gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ANCHOR_FILE, parseAnchor, verifyAuditDir } from '../../../src/execution/audit/auditVerify';
import { loadWorkingOrders, WorkingOrderWriter } from '../../../src/execution/orderStore';
import type { OrderRecord } from '../../../src/execution/orderState';

const HEAD = { seq: 43, hash: 'ab'.repeat(32) };

const ORDER: OrderRecord = {
  clientOrderId: 'sp-1',
  commandId: 'cmd-1',
  venue: 'paper',
  request: {
    symbol: 'EUR_USD',
    side: 'buy',
    order_type: { type: 'limit', price: 1.05 },
    quantity: 5000,
    time_in_force: { type: 'GTC' },
    metadata: {},
    client_order_id: 'sp-1',
  },
  state: 'ACCEPTED',
  venueOrderId: 'P-2',
  filledUnits: 0n,
  notionalUnits: 0n,
  commission: 0,
  fills: [],
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_010,
};

/** `bytes` with one bit of byte `at` flipped (a different bit from byte to byte). */
const flipped = (bytes: Buffer, at: number): Buffer => {
  const damaged = Buffer.from(bytes);
  damaged[at] = (damaged[at] as number) ^ (1 << (at % 8));
  return damaged;
};

describe('the audit head in working-orders.json and anchor.json: a flipped bit is that file’s damage, not the log’s loss', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-head-checksum-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('working-orders.json: every flipped bit is damage (set aside, the log’s orders used), never an order or a head', async () => {
    const file = join(dir, 'working-orders.json');
    const writer = new WorkingOrderWriter(
      file,
      () => [ORDER],
      () => HEAD,
    );
    writer.schedule();
    await writer.flush();
    const bytes = readFileSync(file);
    const intact = loadWorkingOrders(file);
    assert.equal(intact.problem, undefined);
    assert.deepEqual(intact.anchor, HEAD);
    assert.equal(intact.orders[0]?.clientOrderId, 'sp-1');
    let missed = 0;
    for (let at = 0; at < bytes.length; at++) {
      writeFileSync(file, flipped(bytes, at));
      const loaded = loadWorkingOrders(file);
      if (loaded.problem === undefined || loaded.anchor !== undefined || loaded.orders.length > 0) missed++;
    }
    assert.equal(missed, 0, `${missed} of ${bytes.length} flipped bits were read as working orders`);
  });

  it('working-orders.json written before checksums still loads; one with a key it never had is damage', () => {
    const file = join(dir, 'working-orders.json');
    const old = { version: 1, audit: HEAD, orders: [] };
    writeFileSync(file, `${JSON.stringify(old, null, 1)}\n`);
    assert.deepEqual(loadWorkingOrders(file), { exists: true, anchor: HEAD, orders: [] });
    writeFileSync(file, `${JSON.stringify({ ...old, crc33: '00000000' }, null, 1)}\n`);
    assert.match(loadWorkingOrders(file).problem ?? '', /crc33/);
  });

  it('anchor.json: every flipped bit is the anchor’s damage, never a log cut short or replaced', async () => {
    const audit = join(dir, 'audit');
    const { log } = await AuditLog.open(audit, { clock: new TestClock() });
    for (let i = 0; i < 3; i++) log.write('Note', { i });
    await log.close();
    const file = join(audit, ANCHOR_FILE);
    const bytes = readFileSync(file);
    assert.equal((await verifyAuditDir(audit)).verified, true, 'the log as written verifies');
    const wrong: string[] = [];
    for (let at = 0; at < bytes.length; at++) {
      writeFileSync(file, flipped(bytes, at));
      const report = await verifyAuditDir(audit);
      const kinds = report.problems.map((p) => p.kind);
      if (
        kinds.length !== 1 ||
        kinds[0] !== 'anchor-unreadable' ||
        !/anchor\.json is damaged/.test(report.problems[0]?.problem ?? '')
      )
        wrong.push(`byte ${at}: ${report.problems.map((p) => p.problem).join('; ') || 'verified'}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('a damaged anchor.json is kept as it is: every later open and verify still reports it, records appended or not', async () => {
    // The first open used to write a new anchor over the damaged one at its next append or close: the next
    // command then verified and traded as if nothing had happened, the evidence of the damage gone.
    const audit = join(dir, 'audit');
    const clock = new TestClock();
    const first = await AuditLog.open(audit, { clock });
    for (let i = 0; i < 3; i++) first.log.write('Note', { i });
    await first.log.close();
    const file = join(audit, ANCHOR_FILE);
    const damaged = flipped(readFileSync(file), 10);
    writeFileSync(file, damaged);
    for (let run = 0; run < 3; run++) {
      const { log, recovery } = await AuditLog.open(audit, { clock });
      assert.deepEqual(
        recovery.problems.map((p) => p.kind),
        ['anchor-unreadable'],
        `open #${run + 1} reports the damaged anchor`,
      );
      for (let i = 0; i < 3; i++) log.write('Note', { run, i });
      await log.flush();
      clock.advance(5_000);
      await log.writeAnchor();
      await log.close();
      assert.deepEqual(readFileSync(file), damaged, `open #${run + 1} left the damaged anchor as it was`);
      assert.deepEqual(
        (await verifyAuditDir(audit)).problems.map((p) => p.kind),
        ['anchor-unreadable'],
        `verify after open #${run + 1} reports it`,
      );
    }
  });

  it('anchor.json written before checksums still reads; one with a key it never had, or not an object, is damaged', () => {
    const old = { version: 1, seq: 4, hash: 'cd'.repeat(32), at: 1 };
    assert.deepEqual(parseAnchor(JSON.stringify(old)), { seq: 4, hash: old.hash });
    assert.equal(parseAnchor(JSON.stringify({ ...old, crc33: '00000000' })), 'not {seq, hash} JSON');
    for (const text of ['[]', 'null', '"x"', '', '{"seq":-1,"hash":""}'])
      assert.equal(typeof parseAnchor(text), 'string', text);
  });
});
