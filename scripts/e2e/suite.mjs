// What every UI e2e suite does around its steps: a time limit for the whole run (on expiry it records a
// failure, cleans up and exits), SIGINT/SIGTERM handled by cleaning up, the closing line
// `E2E <title>: N passed, N failed (…)` that run-all.sh and CI logs are read by, the .vsix to install, and a
// polling helper. A suite makes one with `suite({ title, timeoutMs, results, cleanup })`.
import { resolve } from 'node:path';
import lib from './lib.js';
import { newestVsix as newestIn } from './vsix.mjs';

export function suite({ title, timeoutMs, results, cleanup }) {
  const started = Date.now();

  function finish(code) {
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    console.log(`E2E ${title}: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    process.exit(code || (failed > 0 ? 1 : 0));
  }

  const guard = setTimeout(async () => {
    lib.log(`${title} run timed out after ${timeoutMs / 1000}s`);
    results.push({ name: 'whole run within the time limit', ok: false });
    await Promise.race([cleanup(), new Promise((r) => setTimeout(r, 15_000))]);
    finish(1);
  }, timeoutMs);
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ])
    process.on(sig, () => {
      lib.log(`${sig}: stopping`);
      cleanup().finally(() => process.exit(code));
    });

  /**
   * Runs the suite's `main` and exits with its count: a failure outside a step is recorded as `setup` (a
   * required step's failure is recorded already), with the tail of code-server's log when it started.
   */
  async function run(main, { setup, serverLog }) {
    let code = 0;
    try {
      await main();
    } catch (e) {
      if (!/^required step failed/.test(e.message)) {
        results.push({ name: setup, ok: false });
        console.log(`  ✘ ${e.stack || e}`);
      }
      const file = serverLog();
      if (file) lib.log(`code-server log tail:\n${lib.tail(file, 20)}`);
      code = 1;
    } finally {
      clearTimeout(guard);
      await cleanup();
    }
    finish(code);
  }

  return { started, run };
}

/** The .vsix to install: E2E_VSIX, else the newest one the repo's `npm run package` made. */
export function newestVsix(repo) {
  return process.env.E2E_VSIX ? resolve(process.env.E2E_VSIX) : newestIn(repo);
}

/** Polls `check` until it gives a truthy value (returned), or fails naming `what` after `timeout` ms. */
export async function until(what, check, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
