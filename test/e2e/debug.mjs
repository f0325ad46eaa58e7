#!/usr/bin/env node
// Debug Order in the editor (issue 16): the PACKAGED extension (.vsix) in code-server (VS Code 1.139, offline:
// no Python extension, no Python Debugger), driven with Playwright in headless Chromium, on a copy of
// examples/workspace with a component whose generate_order ends in `return order`:
//   a breakpoint on that line (F9 in the gutter's line) → the "Debug" CodeLens → SPtrader's own debugger type
//   (`sptrader-python`) attaches to debugpy's adapter → the debug toolbar shows, the call stack says "Paused on
//   breakpoint", the line is highlighted as the top stack frame, and Variables shows the market data → F5
//   continues → the result panel says FILLED (Debug Order, on a scratch copy of the paper account) and the
//   debug session has ended → the editor's context menu offers Debug Order → F1 "SPtrader: Debug Order",
//   paused, the notification's Cancel sends nothing → again, Shift+F5 (stop the session) sends nothing.
// The interpreter is /usr/bin/python3 with Debian's python3-debugpy (scripts/e2e/setup.sh installs it), or
// E2E_DEBUG_PYTHON. Screenshots: test-results/debug-paused.png, debug-filled.png (and debug-fail-*.png).
// Needs scripts/e2e/setup.sh and `npm run package`. Prints `E2E debug: N passed, N failed`; exits non-zero
// on any failure; always kills code-server's group.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lib from '../../scripts/e2e/lib.js';
import { newestVsix, suite } from '../../scripts/e2e/suite.mjs';
import { workbench } from '../../scripts/e2e/page.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { E2E_DIR, log, seedSettings, startCodeServer, codeServerCli, launchBrowser } = lib;

const RUN_DIR = join(E2E_DIR, 'debug-run');
const WORKSPACE = join(RUN_DIR, 'ws');
const RESULTS = join(repo, 'test-results');
const FILE = 'debugged_market.py';
const COMPONENT = `"""A market order to step through with Debug Order."""
from core.orders.order_base import OrderBase

__metadata__ = {'name': 'debugged_market', 'parameters': {'quantity': {'type': 'float', 'default': 3000, 'min': 1}}}


class DebuggedMarket(OrderBase):
    def generate_order(self, market_data, signal=None):
        spread = market_data['ask'] - market_data['bid']
        order = {
            'symbol': market_data.get('symbol', 'EUR_USD'),
            'side': (signal or {}).get('side', 'buy'),
            'order_type': 'market',
            'quantity': self.config.get('quantity', 3000),
            'time_in_force': 'IOC',
            'metadata': {'spread': spread},
        }
        return order
`;
const RETURN_LINE = COMPONENT.split('\n').findIndex((l) => l.trim() === 'return order') + 1;
const PYTHON = process.env.E2E_DEBUG_PYTHON || '/usr/bin/python3';
const TOTAL_TIMEOUT = Number(process.env.E2E_UI_TIMEOUT_MS || 300_000);

const results = [];
let server;
let browser;
let page;
const w = workbench(() => page, { results, resultsDir: RESULTS, prefix: 'debug-' });
const { step, runFromPalette, toast, openFile, resultHeadline } = w;

async function cleanup() {
  await browser?.close();
  await server?.stop();
}

const { run } = suite({ title: 'debug', timeoutMs: TOTAL_TIMEOUT, results, cleanup });

/** Waits until the debugger is paused on a breakpoint at RETURN_LINE; returns the Call Stack pane. */
async function pausedAtReturn(timeout = 60_000) {
  await page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout });
  // The Call Stack pane's header says why the program stopped.
  const callStack = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^Call Stack/i }) });
  await callStack
    .locator('.pane-header', { hasText: /Paused on breakpoint/i })
    .first()
    .waitFor({ state: 'visible', timeout });
  await page
    .locator('.editor-group-container.active .monaco-editor .codicon-debug-stackframe')
    .first()
    .waitFor({ state: 'visible', timeout: 15_000 });
  const line = await highlightedLine();
  if (line !== RETURN_LINE) throw new Error(`the highlighted line is ${line}, not ${RETURN_LINE}`);
  return callStack;
}

/** The editor's line number (1-based) beside the top-stack-frame glyph, or undefined. */
async function highlightedLine() {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-group-container.active .monaco-editor');
    const marker = editor?.querySelector('.codicon-debug-stackframe');
    if (!editor || !marker) return undefined;
    const box = marker.getBoundingClientRect();
    const middle = box.top + box.height / 2;
    for (const n of editor.querySelectorAll('.line-numbers')) {
      const r = n.getBoundingClientRect();
      if (r.top <= middle && middle <= r.bottom) return Number(n.textContent.trim());
    }
    return undefined;
  });
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (/^debug-.*\.png$/.test(f)) rmSync(join(RESULTS, f));
  const vsix = newestVsix(repo);
  if (!vsix || !existsSync(vsix))
    throw new Error('no sptrader-execution-*.vsix in the repo root: run `npm run package` first');
  try {
    execFileSync(PYTHON, ['-c', 'import debugpy'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${PYTHON} cannot import debugpy: run scripts/e2e/setup.sh (apt install python3-debugpy)`);
  }
  rmSync(RUN_DIR, { recursive: true, force: true });
  cpSync(join(repo, 'examples/workspace'), WORKSPACE, { recursive: true });
  writeFileSync(join(WORKSPACE, 'core', 'orders', 'execution_algos', FILE), COMPONENT);
  const userDataDir = join(RUN_DIR, 'user-data');
  const extensionsDir = join(RUN_DIR, 'extensions');
  seedSettings(userDataDir, {
    'sptrader.paper.startingCash': 100000,
    'sptrader.python.interpreterPath': PYTHON,
    // The Run and Debug view opens when the session starts (the default), with the call stack and variables.
    'debug.openDebug': 'openOnSessionStart',
  });

  await step(
    'install the packaged .vsix',
    async () => {
      codeServerCli(['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix]);
      const installed = readdirSync(extensionsDir);
      if (!installed.some((d) => d.startsWith('sptrader.'))) throw new Error('not installed');
      if (installed.some((d) => /^ms-python\./.test(d))) throw new Error('the Python extension must be absent here');
      return installed.join(', ');
    },
    { required: true },
  );
  server = await startCodeServer({ userDataDir, extensionsDir, smokeTestDriver: false });
  log(`code-server on ${server.origin} (log ${server.logFile})`);
  browser = await launchBrowser();
  page = await browser.browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(60_000);
  await page.goto(`${server.origin}/?folder=${encodeURIComponent(WORKSPACE)}`, { waitUntil: 'domcontentloaded' });

  await step(
    `workbench loads, ${FILE} opens with a Debug CodeLens`,
    async () => {
      await page.locator('.monaco-workbench').waitFor({ state: 'visible' });
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible' });
      await openFile(FILE);
      await page
        .locator('.codelens-decoration a', { hasText: /^Debug$/ })
        .first()
        .waitFor({ timeout: 45_000 });
      const lenses = await page.locator('.editor-group-container.active .codelens-decoration').allInnerTexts();
      return lenses.join(' ').replace(/\s+/g, ' ');
    },
    { required: true },
  );

  await step(
    `a breakpoint on line ${RETURN_LINE} (return order), set with F9 where no Python extension is installed`,
    async () => {
      await runFromPalette('Go to Line/Column...');
      await page.keyboard.type(String(RETURN_LINE));
      await page.keyboard.press('Enter');
      await page.keyboard.press('F9');
      const glyph = page.locator('.editor-group-container.active .monaco-editor .codicon-debug-breakpoint');
      await glyph.first().waitFor({ state: 'visible', timeout: 10_000 });
      const count = await glyph.count();
      if (count !== 1) throw new Error(`${count} breakpoint glyphs`);
    },
    { required: true },
  );

  await step(
    'the Debug CodeLens starts the run under the debugger: paused on the breakpoint at the return line',
    async () => {
      await page
        .locator('.codelens-decoration a', { hasText: /^Debug$/ })
        .first()
        .click();
      const callStack = await pausedAtReturn();
      const line = RETURN_LINE;
      const focused = await page
        .locator('.editor-group-container.active .view-overlays .debug-top-stack-frame-line')
        .count();
      if (focused === 0) throw new Error('no top-stack-frame line highlight');
      const session = (await callStack.locator('.monaco-list-row').first().innerText()).replace(/\s+/g, ' ');
      return `line ${line}; ${session}`;
    },
    { required: true },
  );

  await step('Variables shows the market data the component was given', async () => {
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^Variables/i }) });
    const variables = pane.locator('.monaco-list-row');
    await variables
      .filter({ hasText: /market_data/ })
      .first()
      .waitFor({ state: 'visible', timeout: 20_000 });
    const rows = (await variables.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    if (!rows.some((r) => /^order = .*'quantity': 3000/.test(r))) throw new Error(`locals: ${rows.join(' | ')}`);
    if (!rows.some((r) => /^market_data = .*'bid': \d/.test(r))) throw new Error(`locals: ${rows.join(' | ')}`);
    await page.screenshot({ path: join(RESULTS, 'debug-paused.png') });
    return rows.slice(0, 4).join(' | ');
  });

  await step(
    'F5 continues: the order goes on and the result panel says FILLED (Debug Order, on a scratch copy)',
    async () => {
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('F5');
      const { headline, frame } = await resultHeadline(/FILLED/);
      const venue = (await frame.locator('#venue').innerText()).trim();
      if (!/Debug Order/.test(venue) || !/scratch copy/.test(venue)) throw new Error(`venue line: ${venue}`);
      if (!/BUY 3,000 EUR_USD/.test(headline)) throw new Error(`headline: ${headline}`);
      await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
      const message = await toast(/Debug Order on paper/);
      await page.screenshot({ path: join(RESULTS, 'debug-filled.png') });
      return `${headline} · ${venue} · toast: ${message}`;
    },
  );

  await step("the editor's context menu offers Debug Order", async () => {
    await openFile(FILE);
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click({ button: 'right' });
    const item = page.locator('.monaco-menu .action-item', { hasText: /^\s*Debug Order\s*$/ });
    await item.first().waitFor({ state: 'visible', timeout: 15_000 });
    const items = (await page.locator('.monaco-menu .action-label').allInnerTexts()).filter((t) => /Order/.test(t));
    await page.keyboard.press('Escape');
    return items.join(' | ');
  });

  await step(
    'F1 "SPtrader: Debug Order", paused: the notification says what Continue does, and its Cancel sends nothing',
    async () => {
      // The result panel holds the active group now: the component is opened again to be the active editor.
      await openFile(FILE);
      await runFromPalette('SPtrader: Debug Order');
      await pausedAtReturn();
      const progress = page.locator('.notifications-toasts .notification-toast', {
        hasText: 'SPtrader: Debug Order',
      });
      await progress
        .filter({ hasText: /Continue \(F5\) sends its order/ })
        .waitFor({ state: 'visible', timeout: 15_000 });
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
      const message = await toast(/Debug Order on paper: No order: DEBUG_CANCELLED/);
      await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
      return message;
    },
  );

  await step('stopping the debug session (Shift+F5) at the breakpoint cancels the run: nothing is sent', async () => {
    await w.clearNotifications();
    await openFile(FILE);
    await runFromPalette('SPtrader: Debug Order');
    await pausedAtReturn();
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Shift+F5');
    const message = await toast(/Debug Order on paper: No order: DEBUG_CANCELLED/);
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
    return message;
  });
}

await run(main, { setup: 'setup (code-server, Chromium, debugpy)', serverLog: () => server?.logFile });
