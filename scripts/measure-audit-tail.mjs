// By hand (not part of `npm run bench`): Show Audit Log's read of a large audit log, from its end against a
// whole read. `npx tsc -p tsconfig.test.json && node scripts/measure-audit-tail.mjs [records]`.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { AuditLog } = require('../out/src/execution/audit/auditLog.js');
const { readAuditTail } = require('../out/src/execution/audit/auditTail.js');
const { verifyAuditDir } = require('../out/src/execution/audit/auditVerify.js');
const { listAuditFiles } = require('../out/src/execution/audit/auditFiles.js');

const RECORDS = Number(process.argv[2] ?? 150_000);
const SHOWN = 2000;
const RUNS = 15;
const dir = mkdtempSync(join(tmpdir(), 'sptrader-tail-measure-'));
try {
  const { log } = await AuditLog.open(dir, { rotateDaily: false, rotateBytes: 2 ** 30 });
  for (let i = 0; i < RECORDS; i += 256) {
    const batch = [];
    for (let j = i; j < Math.min(RECORDS, i + 256); j++)
      batch.push(
        log.append(j % 2 ? 'OrderFilled' : 'SubmitOrder', {
          clientOrderId: `c-${j}`,
          command: { order: { symbol: 'EUR_USD', side: 'buy', quantity: 10000, type: 'market' }, source: 'api' },
          fill: { price: 1.09014, quantity: 10000 },
          state: 'FILLED',
          venue: 'paper',
        }),
      );
    await Promise.all(batch);
  }
  await log.close();
  const files = await listAuditFiles(dir);
  const newest = join(dir, files[files.length - 1].name);
  const mb = (statSync(newest).size / 1e6).toFixed(1);

  // What the view did before: the newest file read whole, split, parsed from the end.
  async function wholeRead(n) {
    const lines = (await readFile(newest, 'utf8')).split('\n');
    const out = [];
    for (let i = lines.length - 1; i >= 0 && out.length < n; i--) if (lines[i] !== '') out.push(JSON.parse(lines[i]));
    return out.reverse();
  }
  const time = async (label, fn) => {
    const ms = [];
    for (let r = 0; r < RUNS; r++) {
      const t = process.hrtime.bigint();
      await fn();
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    ms.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(52)} p50 ${ms[RUNS >> 1].toFixed(1)} ms (min ${ms[0].toFixed(1)}, max ${ms[RUNS - 1].toFixed(1)})`,
    );
  };
  console.log(`${RECORDS} records, newest file ${mb} MB, ${files.length} file(s); ${RUNS} runs each`);
  await time(`whole read, last ${SHOWN}`, () => wholeRead(SHOWN));
  await time(`whole read, last ${2 * SHOWN} (the view's ${SHOWN} + lookback)`, () => wholeRead(2 * SHOWN));
  await time(`readAuditTail ${SHOWN}`, () => readAuditTail(dir, SHOWN));
  await time(`readAuditTail ${2 * SHOWN} (what the view reads)`, () => readAuditTail(dir, 2 * SHOWN));
  const same = JSON.stringify((await readAuditTail(dir, SHOWN)).records) === JSON.stringify(await wholeRead(SHOWN));
  console.log(`same records: ${same}`);
  const t = process.hrtime.bigint();
  await verifyAuditDir(dir);
  console.log(
    `verifyAuditDir (the chain line, unchanged): ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
