/** `npm run bench`: every performance figure of the project, each beside its floor. */
import { benchAudit } from './audit.bench';
import { benchEngine } from './engine.bench';
import { benchReplay } from './replay.bench';
import { benchAdapters } from './adapters.bench';
import { benchActivation } from './activation.bench';
import { benchPackage } from './package.bench';
import { benchPaperPoll } from './paperPoll.bench';
import { benchPaper } from './paper.bench';
import { benchOrderBook } from './orderbook.bench';
import { benchTestOrder } from './testOrder.bench';
import { benchOpen } from './open.bench';

async function main(): Promise<void> {
  console.log(
    `# SPtrader benchmarks — ${new Date().toISOString()} — node ${process.version}, ${process.platform}/${process.arch}`,
  );
  const only = process.argv[2];
  if (!only || only === 'test-order') await benchTestOrder();
  if (!only || only === 'audit') await benchAudit();
  if (!only || only === 'engine') await benchEngine();
  if (!only || only === 'replay') await benchReplay();
  if (!only || only === 'adapters') await benchAdapters();
  if (!only || only === 'activation') await benchActivation();
  if (!only || only === 'package') await benchPackage();
  if (!only || only === 'orderbook') await benchOrderBook();
  if (!only || only === 'paper') await benchPaper();
  if (!only || only === 'paper-poll') await benchPaperPoll();
  if (!only || only === 'open') await benchOpen();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
