#!/usr/bin/env node
// UI end-to-end: the PACKAGED extension (.vsix from `npm run package`) installed into code-server
// (VS Code 1.139), driven with Playwright in headless Chromium, on examples/workspace:
//   open spread_guarded_market.py from the Explorer → the "Test Order" CodeLens is shown →
//   F1 "SPtrader: Test Order" → the result webview shows FILLED, the total time and the slippage →
//   the SPtrader activity-bar container lists the position → F1 "SPtrader: Emergency Stop" → the
//   status bar shows HALTED.
// Screenshots: test-results/{codelens,panel,tree,statusbar}.png (and fail-*.png).
// Needs scripts/e2e/setup.sh and `npm run package`. Env: E2E_VSIX (default: newest
// sptrader-execution-*.vsix in the repo root), E2E_UI_TIMEOUT_MS (whole run, default 300000).
// Prints `E2E UI: N passed, N failed`; exits non-zero on any failure; always kills code-server's group.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lib from '../../scripts/e2e/lib.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { E2E_DIR, log, seedSettings, startCodeServer, codeServerCli, launchBrowser, tail } = lib;

const WORKSPACE = join(repo, 'examples/workspace');
const FILE = 'spread_guarded_market.py';
const FILE_PATH = ['core', 'orders', 'execution_algos'];
const RESULTS = join(repo, 'test-results');
const RUN_DIR = join(E2E_DIR, 'ui-run');
const STEP_TIMEOUT = 60_000;
const TOTAL_TIMEOUT = Number(process.env.E2E_UI_TIMEOUT_MS || 300_000);
const started = Date.now();

const results = [];
let server;
let browser;
let page;

async function cleanup() {
  await browser?.close();
  await server?.stop();
}

function finish(code) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`E2E UI: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exit(code || (failed > 0 ? 1 : 0));
}

const guard = setTimeout(async () => {
  log(`UI run timed out after ${TOTAL_TIMEOUT / 1000}s`);
  results.push({ name: 'whole run within the time limit', ok: false });
  await Promise.race([cleanup(), new Promise((r) => setTimeout(r, 15_000))]);
  finish(1);
}, TOTAL_TIMEOUT);
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
])
  process.on(sig, () => {
    log(`${sig}: stopping`);
    cleanup().finally(() => process.exit(code));
  });

/** Runs one named check; a failure is recorded (with a screenshot) and, if `required`, stops the run. */
async function step(name, fn, { required = false } = {}) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`);
    return true;
  } catch (e) {
    results.push({ name, ok: false });
    console.log(
      `  ✘ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${String(e.message || e)
        .split('\n')
        .slice(0, 6)
        .join('\n      ')}`,
    );
    const slug = name
      .replace(/[^a-z0-9]+/gi, '-')
      .toLowerCase()
      .slice(0, 40);
    await page?.screenshot({ path: join(RESULTS, `fail-${slug}.png`) }).catch(() => {});
    if (required) throw new Error(`required step failed: ${name}`);
    return false;
  }
}

function newestVsix() {
  if (process.env.E2E_VSIX) return resolve(process.env.E2E_VSIX);
  const found = readdirSync(repo)
    .filter((f) => /^sptrader-execution-.*\.vsix$/.test(f))
    .map((f) => join(repo, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return found[0];
}

/** Runs a command from F1 by its palette title. */
async function runFromPalette(title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.click();
}

/** The inner document of the webview whose body matches `text` (webviews are two nested iframes). */
async function findWebview(text, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const outer = page.locator('iframe.webview.ready');
    const n = await outer.count();
    for (let i = 0; i < n; i++) {
      const inner = outer.nth(i).contentFrame().locator('iframe#active-frame').contentFrame();
      const body = inner.locator('body');
      const content = await body.innerText({ timeout: 1000 }).catch(() => '');
      if (text.test(content)) return inner;
    }
    if (Date.now() > deadline) throw new Error(`no webview showing ${text} within ${timeout / 1000}s (${n} webview(s) open)`);
    await page.waitForTimeout(250);
  }
}

async function textOf(frame, selector, fallback, bodyText) {
  const loc = frame.locator(selector);
  if ((await loc.count()) > 0) {
    const t = (await loc.first().innerText()).trim();
    if (t) return { text: t, via: selector };
  }
  const m = fallback.exec(bodyText);
  return { text: m ? m[1].trim() : '', via: 'body text' };
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (/^(fail-.*|codelens|panel|tree|statusbar)\.png$/.test(f)) rmSync(join(RESULTS, f));
  const vsix = newestVsix();
  if (!vsix || !existsSync(vsix)) throw new Error('no sptrader-execution-*.vsix in the repo root: run `npm run package` first');
  rmSync(RUN_DIR, { recursive: true, force: true });
  const userDataDir = join(RUN_DIR, 'user-data');
  const extensionsDir = join(RUN_DIR, 'extensions');
  seedSettings(userDataDir);

  await step(
    'install the packaged .vsix',
    async () => {
      const out = codeServerCli(['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix]);
      const installed = readdirSync(extensionsDir).filter((d) => d.startsWith('sptrader.'));
      if (installed.length === 0) throw new Error(`not installed:\n${out}`);
      return `${vsix.split('/').pop()} → ${installed.join(', ')}`;
    },
    { required: true },
  );

  server = await startCodeServer({ userDataDir, extensionsDir });
  log(`code-server on ${server.origin} (log ${server.logFile})`);
  browser = await launchBrowser();
  page = await browser.browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`${server.origin}/?folder=${encodeURIComponent(WORKSPACE)}`, { waitUntil: 'domcontentloaded' });

  await step(
    'workbench loads with the workspace in the Explorer',
    async () => {
      await page.locator('.monaco-workbench').waitFor({ state: 'visible' });
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible' });
    },
    { required: true },
  );

  await step(
    `open ${FILE} from the Explorer`,
    async () => {
      const fileRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: FILE });
      for (const folder of FILE_PATH) {
        if (await fileRow.isVisible()) break;
        // Compact folders may show "core / orders" as one row; click only collapsed rows naming this folder.
        const row = page.locator('.explorer-folders-view .monaco-list-row[aria-expanded="false"]', { hasText: folder }).first();
        if ((await row.count()) === 0) continue;
        await row.click();
        await page.locator('.explorer-folders-view .monaco-list-row[aria-expanded="true"]', { hasText: folder }).first().waitFor({ timeout: 10_000 });
      }
      await fileRow.click();
      await page.locator('.tabs-container .tab.active', { hasText: FILE }).waitFor({ state: 'visible' });
      await page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible' });
    },
    { required: true },
  );

  await step('the "Test Order" CodeLens is shown', async () => {
    const lens = page.locator('.codelens-decoration', { hasText: 'Test Order' }).first();
    await lens.waitFor({ state: 'visible', timeout: 45_000 });
    const all = (await page.locator('.codelens-decoration').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    await page.screenshot({ path: join(RESULTS, 'codelens.png') });
    return all.join(' | ');
  });

  await step('F1 "SPtrader: Test Order" shows FILLED, the total time and the slippage in the result webview', async () => {
    await page.locator('.monaco-editor .view-lines').first().click(); // the editor holds the component
    await runFromPalette('SPtrader: Test Order');
    const frame = await findWebview(/FILLED/i, 90_000);
    const body = await frame.locator('body').innerText();
    const status = await textOf(frame, '#status', /\b(FILLED)\b/i, body);
    const total = await textOf(frame, '#timing-total', /Total\s*\n?\s*([0-9.,]+\s*(?:ms|s|µs))/i, body);
    const slippage = await textOf(frame, '#slippage', /Slippage\s*\n?\s*([^\n]+)/i, body);
    await page.screenshot({ path: join(RESULTS, 'panel.png') });
    if (!/FILLED/i.test(status.text)) throw new Error(`status is "${status.text}"`);
    if (!/\d/.test(total.text)) throw new Error(`no total time (got "${total.text}")`);
    if (!slippage.text) throw new Error('no slippage');
    return `status "${status.text}" (${status.via}), total "${total.text}" (${total.via}), slippage "${slippage.text}" (${slippage.via})`;
  });

  await step('the SPtrader activity-bar container lists the position in Positions', async () => {
    // Click the item, not its <a>: with a uri-icon the anchor can report no box to Playwright.
    const icon = page.locator('.activitybar .action-item:has(a[aria-label^="SPtrader"])').first();
    await icon.click();
    const container = page.locator('[id="workbench.view.extension.sptrader"]');
    await container.waitFor({ state: 'visible' });
    const positions = container.locator('.pane', { has: page.locator('.pane-header', { hasText: /Positions/i }) }).first();
    const header = positions.locator('.pane-header');
    if ((await header.count()) > 0 && (await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const row = positions.locator('.monaco-list-row', { hasText: 'EUR_USD' }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
    await page.screenshot({ path: join(RESULTS, 'tree.png') });
    return text;
  });

  await step('F1 "SPtrader: Emergency Stop" shows HALTED in the status bar', async () => {
    await runFromPalette('SPtrader: Emergency Stop');
    const bar = page.locator('#workbench\\.parts\\.statusbar');
    await bar.locator('.statusbar-item', { hasText: 'HALTED' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: join(RESULTS, 'statusbar.png') });
    const item = (await bar.locator('.statusbar-item', { hasText: 'HALTED' }).first().innerText()).trim();
    return item;
  });
}

let code = 0;
try {
  await main();
} catch (e) {
  if (!/^required step failed/.test(e.message)) {
    results.push({ name: 'setup (code-server, Chromium)', ok: false });
    console.log(`  ✘ ${e.stack || e}`);
  }
  if (server) log(`code-server log tail:\n${tail(server.logFile, 20)}`);
  code = 1;
} finally {
  clearTimeout(guard);
  await cleanup();
}
finish(code);
