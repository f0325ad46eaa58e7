/**
 * The readable audit log (SPtrader: Show Audit Log) over a real engine, paper venue and audit log: each
 * record on one line with its UTC time, kind, the order named by what it is, status and fill; the chain's
 * verification at the top; a long log says how much of it is shown.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { appendFileSync } from 'node:fs';
import { tailAudit, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { readAuditTail } from '../../../src/execution/audit/auditTail';
import { AUDIT_VIEW_LIMIT, auditLogText, auditViewInputOf } from '../../../src/views/auditLogView';
import { limit, order } from '../paper/helpers';
import { LOOSE, makeRig, type Rig } from '../execution/engineHelpers';

describe('audit log view', function () {
  this.timeout(20_000);
  let rig: Rig;
  afterEach(async () => rig && (await rig.close()));

  /** The view as Show Audit Log builds it: the log's tail read from its end, the chain verified. */
  async function view(records = 1_000_000, earlier = 0): Promise<{ text: string; lines: string[] }> {
    await rig.audit.flush();
    const dir = join(rig.dir, 'audit');
    const input = auditViewInputOf(dir, await readAuditTail(dir, records + earlier), records);
    const text = auditLogText({ ...input, chain: { kind: 'done', report: await verifyAuditDir(dir) } });
    return { text, lines: text.split('\n') };
  }

  it('names each order by what it is, with its status and fill, newest last, under a verified chain', async () => {
    rig = await makeRig({ limits: { ...LOOSE, maxOrderQuantity: 500 } });
    const filled = order('buy', 10);
    await rig.engine.submitOrder(filled, 'paper');
    const resting = order('sell', 5, limit(150));
    await rig.engine.submitOrder(resting, 'paper');
    await rig.engine.cancel(resting.client_order_id);
    await rig.engine.submitOrder(order('buy', 501), 'paper');
    const { text, lines } = await view();

    assert.match(lines[0] ?? '', /^SPtrader audit log · chain VERIFIED: \d+ records in 1 file, intact$/);
    assert.match(lines[1] ?? '', /^\d+ records, newest last\.$/);
    assert.match(lines[2] ?? '', /^Raw JSONL: .*\/audit\/audit-\d{4}-\d\d-\d\d\.jsonl$/);
    assert.equal(lines[3], '');
    const line = (kind: string, what: RegExp): string => {
      const found = lines.find((l) => l.includes(` ${kind} `) && what.test(l));
      assert.ok(found, `no ${kind} line matching ${what} in:\n${text}`);
      return found;
    };
    const time = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC {2}#\d+ +[A-Z]/;
    assert.match(line('SubmitOrder', /BUY 10 AAPL MKT GTC {2}submit requested {2}\(api\) {2}on paper/), time);
    assert.match(line('OrderFilled', /BUY 10 AAPL MKT GTC {2}FILLED {2}10 @ 100\.02/), time);
    line('OrderAccepted', /SELL 5 AAPL LMT 150 GTC {2}ACCEPTED/);
    line('OrderCancelled', /SELL 5 AAPL LMT 150 GTC {2}CANCELLED/);
    line('OrderDenied', /BUY 501 AAPL MKT GTC {2}DENIED: QUANTITY_EXCEEDS_MAXIMUM/);
    // Orders are named by what they are: no client order id anywhere on a line.
    // As a word: an id such as "t-2" is also inside the header's "audit-2026-…" file name.
    assert.ok(!new RegExp(`\\b${filled.client_order_id}\\b`).test(text), text);
    // Newest last: the seqs go up.
    const seqs = lines.flatMap((l) => /UTC {2}#(\d+) /.exec(l)?.[1] ?? []).map(Number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
  });

  it('a long log shows its last records, says so, and still names an order sent before them', async () => {
    rig = await makeRig();
    const first = order('buy', 7, limit(90));
    await rig.engine.submitOrder(first, 'paper');
    for (let i = 0; i < 4; i++) await rig.engine.submitOrder(order('buy', 1), 'paper');
    await rig.engine.cancel(first.client_order_id);
    const { lines } = await view(3, AUDIT_VIEW_LIMIT);
    assert.match(lines[1] ?? '', /^Showing the last 3 of \d+ records, newest last \(the raw log has them all\)\.$/);
    const body = lines.slice(4).filter((l) => l !== '');
    assert.equal(body.length, 3);
    assert.match(body[body.length - 1] ?? '', /OrderCancelled +BUY 7 AAPL LMT 90 GTC {2}CANCELLED$/);
  });

  it('says so when the chain is broken, and while it is still being checked', async () => {
    rig = await makeRig();
    await rig.engine.submitOrder(order('buy', 1), 'paper');
    await rig.audit.flush();
    const dir = join(rig.dir, 'audit');
    const records = await tailAudit(dir, 10);
    const base = { records, total: records.length, dir, newestFile: undefined };
    assert.match(auditLogText({ ...base, chain: { kind: 'verifying' } }), /^SPtrader audit log · chain: verifying…\n/);
    const report = await verifyAuditDir(dir);
    const broken = {
      ...report,
      verified: false,
      problemCount: 1,
      problems: [
        { file: 'audit-x.jsonl', line: 3, kind: 'hash-mismatch' as const, problem: 'the hash does not match' },
      ],
    };
    assert.match(
      auditLogText({ ...base, chain: { kind: 'done', report: broken } }),
      /^SPtrader audit log · chain BROKEN: 1 problem, first at audit-x\.jsonl:3: the hash does not match/,
    );
    assert.match(
      auditLogText({ ...base, records: [], total: 0, chain: { kind: 'verifying' } }),
      /the audit log is empty/,
    );
  });

  it('shows bidi controls, line breaks and other invisible characters in a record escaped, each record one line', async () => {
    rig = await makeRig();
    // A reason that, shown raw, reads "halted: venue ok" right to left and hides a second line and a zero-width space.
    const reason =
      'halted: \u202ekо enuev\u202c\u2066x\u2069 \u200bzero\u00adsoft\nSubmitOrder forged\u2028\ufeff\u0007';
    rig.engine.setTradingState('HALTED', reason);
    const { text, lines } = await view();
    assert.ok(!/[\u202a-\u202e\u2066-\u2069\u200b\u00ad\u2028\ufeff\u0007]/.test(text), text);
    const line = lines.find((l) => l.includes(' TradingStateChanged '));
    assert.ok(line, text);
    assert.ok(
      line.endsWith(
        'ACTIVE → HALTED: halted: \\u202ekо enuev\\u202c\\u2066x\\u2069 \\u200bzero\\xadsoft\\nSubmitOrder forged\\u2028\\ufeff\\x07',
      ),
      line,
    );
    // The forged text stays inside its record's line: no line of the view starts with anything but a time or header.
    assert.ok(!lines.some((l) => l.startsWith('SubmitOrder')), text);
  });

  it('says in its header what the read from the end left out: a torn last line', async () => {
    rig = await makeRig();
    await rig.engine.submitOrder(order('buy', 1), 'paper');
    await rig.audit.flush();
    const dir = join(rig.dir, 'audit');
    const newest = (await readAuditTail(dir, 1)).newestFile as string;
    appendFileSync(newest, '{"seq":99,"ts":1');
    const { lines } = await view();
    assert.equal(
      lines[3],
      `Left out: the last 16 bytes of ${newest}, a line with no newline (a write cut short, e.g. by a crash); the log removes it when it is next opened.`,
    );
    assert.equal(lines[4], '');
    assert.ok(
      lines.some((l) => / SubmitOrder +BUY 1 AAPL/.test(l)),
      lines.join('\n'),
    );
  });
});
