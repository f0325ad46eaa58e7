/**
 * Fault injection for the crash suite (test/integration/crash/): when SPTRADER_CRASH_AT names a point, the
 * process kills itself with SIGKILL the Nth time it passes it (`point` or `point:N`), as a power cut or
 * `kill -9` would. Read once; with the variable unset it costs one comparison.
 */
const spec = process.env['SPTRADER_CRASH_AT'];
const [target, nth] =
  spec === undefined || spec === '' ? [undefined, 1] : [spec.split(':')[0], Number(spec.split(':')[1] ?? 1)];
let passes = 0;

export function crashPoint(name: string): void {
  if (target === undefined || name !== target) return;
  if (++passes < nth) return;
  process.kill(process.pid, 'SIGKILL');
}
