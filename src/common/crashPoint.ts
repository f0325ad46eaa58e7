/**
 * Fault injection for the crash suite (test/integration/crash/): when SPTRADER_CRASH_AT names a point, the
 * process kills itself with SIGKILL the Nth time it passes it (`point` or `point:N`), as a power cut or
 * `kill -9` would. When SPTRADER_PAUSE_AT names a point, the process stops there instead (the whole process,
 * as a slow disk or a descheduled process would), writes `<SPTRADER_PAUSE_FILE>.paused` and goes on once
 * `SPTRADER_PAUSE_FILE` exists: a race between two processes is then played in one order, every time. Read
 * once; with the variables unset it costs one comparison each.
 */
import { existsSync, writeFileSync } from 'node:fs';

const spec = process.env['SPTRADER_CRASH_AT'];
const [target, nth] =
  spec === undefined || spec === '' ? [undefined, 1] : [spec.split(':')[0], Number(spec.split(':')[1] ?? 1)];
let passes = 0;
const pauseAt = process.env['SPTRADER_PAUSE_AT'] || undefined;

export function crashPoint(name: string): void {
  if (name === pauseAt) pauseHere();
  if (target === undefined || name !== target) return;
  if (++passes < nth) return;
  process.kill(process.pid, 'SIGKILL');
}

function pauseHere(): void {
  const resume = process.env['SPTRADER_PAUSE_FILE'];
  if (!resume) return;
  writeFileSync(`${resume}.paused`, String(process.pid));
  // Synchronous on purpose: nothing of this process may run while it is stopped here.
  const wait = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(resume)) Atomics.wait(wait, 0, 0, 10);
}
