#!/usr/bin/env node
// Replay in the editor, end to end: the PACKAGED extension (.vsix from `npm run package`) installed into
// code-server, driven with Playwright in headless Chromium, on a copy of examples/workspace with data/ added:
//   open sma_cross.py → Set Component Inputs… period 25 → the "Replay…" CodeLens → pick
//   data/eurusd_m1_500.csv → symbol EUR_USD → the parameters (from __metadata__, starting from the
//   component inputs: period 25): period refuses 1 with its rule, takes 20 → Run → the notification says
//   what ran → the replay panel shows COMPLETED, the risk limits of the user's settings it ran under
//   (sptrader.risk.maxOrderQuantity 20,000), the parent orders (none), and the report's figures, which equal those of
//   `sptrader replay --json` (the CLI from the same .vsix) over the same data and parameters → the equity
//   curve and the price chart are drawn → Export fills CSV writes the fills → a slow component (written
//   beside the run, outside the workspace) is replayed and cancelled from its progress notification: the panel
//   says CANCELLED and how far it got.
// Screenshots: test-results/replay-{lens,parameters,panel,equity,price,progress,cancelled}.png (and
// fail-replay-*.png). Needs scripts/e2e/setup.sh and `npm run package`. Env: E2E_VSIX (default: newest
// sptrader-execution-*.vsix in the repo root), E2E_UI_TIMEOUT_MS (whole run, default 300000).
// Prints `E2E replay: N passed, N failed`; exits non-zero on any failure; always kills code-server's group.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lib from '../../scripts/e2e/lib.js';
import { newestVsix, suite, until } from '../../scripts/e2e/suite.mjs';
import { chooseRow, workbench } from '../../scripts/e2e/page.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { E2E_DIR, log, seedSettings, startCodeServer, codeServerCli, launchBrowser } = lib;

const RESULTS = join(repo, 'test-results');
const RUN_DIR = join(E2E_DIR, 'replay-run');
// A copy of examples/workspace with data/ beside core/ (the shipped examples keep their Explorer layout).
const WORKSPACE = join(RUN_DIR, 'workspace');
const COMPONENT = join(WORKSPACE, 'core/orders/execution_algos/sma_cross.py');
const DATA = join(WORKSPACE, 'data/eurusd_m1_500.csv');
const EXPORTED = join(RUN_DIR, 'exported-fills.csv');
const SLOW = join(RUN_DIR, 'components', 'slow_bars.py');
const TOTAL_TIMEOUT = Number(process.env.E2E_UI_TIMEOUT_MS || 300_000);

const results = [];
let server;
let browser;
let page;

const { step } = workbench(() => page, { results, resultsDir: RESULTS, prefix: 'replay-' });

async function cleanup() {
  await browser?.close();
  await server?.stop();
}

const { run } = suite({ title: 'replay', timeoutMs: TOTAL_TIMEOUT, results, cleanup });

const widget = () => page.locator('.quick-input-widget');

/** Picks the row naming `text` in the open quick pick. */
async function pick(text) {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await chooseRow(page, row, text);
}

/** Waits for the quick input whose title or prompt matches `re`. */
async function inputShowing(re) {
  const input = widget().locator('input.input');
  await until(`the input ${re}`, async () => (await input.isVisible()) && re.test(await widget().innerText()), 30_000);
  return input;
}

/** The replay webview's inner document once its status is one of `statuses`. */
async function replayPanel(statuses, timeout) {
  return until(
    `the replay panel showing ${statuses}`,
    async () => {
      const outer = page.locator('iframe.webview.ready');
      const n = await outer.count();
      for (let i = 0; i < n; i++) {
        const inner = outer.nth(i).contentFrame().locator('iframe#active-frame').contentFrame();
        const status = await inner
          .locator('#status')
          .first()
          .innerText({ timeout: 1000 })
          .catch(() => '');
        const running = await inner
          .locator('#running')
          .first()
          .innerText({ timeout: 1000 })
          .catch(() => 'x');
        if (statuses.test(status.trim()) && running.trim() === '') return inner;
      }
      return undefined;
    },
    timeout,
  );
}

/** A toast whose message matches `re`. */
async function toast(re, timeout = 60_000) {
  return until(
    `a notification ${re}`,
    async () => {
      const texts = await page
        .locator('.notifications-toasts .notification-list-item-message')
        .allInnerTexts()
        .catch(() => []);
      return texts.map((t) => t.replace(/\s+/g, ' ').trim()).find((t) => re.test(t));
    },
    timeout,
  );
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (/^(fail-replay-.*|replay-.*)\.png$/.test(f)) rmSync(join(RESULTS, f));
  const vsix = newestVsix(repo);
  if (!vsix || !existsSync(vsix))
    throw new Error('no sptrader-execution-*.vsix in the repo root: run `npm run package` first');
  rmSync(RUN_DIR, { recursive: true, force: true });
  cpSync(join(repo, 'examples/workspace'), WORKSPACE, { recursive: true });
  mkdirSync(dirname(DATA), { recursive: true });
  // The first 500 candles of the bundled EUR_USD minute sample.
  const sample = readFileSync(join(repo, 'examples/data/eurusd_m1_sample.csv'), 'utf8').split('\n');
  writeFileSync(DATA, `${sample.slice(0, 501).join('\n')}\n`);
  const userDataDir = join(RUN_DIR, 'user-data');
  const extensionsDir = join(RUN_DIR, 'extensions');
  // A limit of the user's settings the replay must run under (not the built-in default of 1,000,000); the
  // component orders 10,000, so the figures still equal the CLI's.
  seedSettings(userDataDir, { 'sptrader.risk.maxOrderQuantity': 20000 });
  let cliReport;

  await step(
    'install the packaged .vsix, and replay with its CLI for the figures to compare',
    async () => {
      codeServerCli(['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix]);
      const installed = readdirSync(extensionsDir).find((d) => d.startsWith('sptrader.'));
      if (!installed) throw new Error('not installed');
      const cli = join(extensionsDir, installed, 'dist/cli.js');
      const out = execFileSync(
        process.execPath,
        [cli, 'replay', COMPONENT, '--data', DATA, '--symbol', 'EUR_USD', '--param', 'period=20', '--json'],
        { encoding: 'utf8', cwd: RUN_DIR, timeout: 120_000 },
      );
      cliReport = JSON.parse(out);
      if (!cliReport.ok || cliReport.fills === 0) throw new Error(`the CLI replay: ${out.slice(0, 300)}`);
      return `${installed}; CLI: ${cliReport.fills} fills, P&L ${cliReport.curve.final}, max drawdown ${cliReport.curve.drawdown.max}`;
    },
    { required: true },
  );

  server = await startCodeServer({ userDataDir, extensionsDir, smokeTestDriver: false });
  log(`code-server on ${server.origin} (log ${server.logFile})`);
  browser = await launchBrowser();
  page = await browser.browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.setDefaultTimeout(60_000);
  await page.goto(`${server.origin}/?folder=${encodeURIComponent(WORKSPACE)}`, { waitUntil: 'domcontentloaded' });

  await step(
    'open sma_cross.py: the "Replay…" CodeLens is shown beside Test Order and Execute on Paper',
    async () => {
      await page.locator('.monaco-workbench').waitFor({ state: 'visible' });
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible' });
      // Quick Open by name (the Explorer's compact folders change with the workspace's layout).
      await page.keyboard.press('Control+P');
      const input = widget().locator('input.input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill('sma_cross.py');
      await pick('sma_cross.py');
      await page.locator('.tabs-container .tab.active', { hasText: 'sma_cross.py' }).waitFor({ state: 'visible' });
      const lens = page.locator('.codelens-decoration a', { hasText: 'Replay…' }).first();
      await lens.waitFor({ state: 'visible', timeout: 45_000 });
      await page.screenshot({ path: join(RESULTS, 'replay-lens.png') });
      return (await page.locator('.codelens-decoration').first().innerText()).replace(/\s+/g, ' ');
    },
    { required: true },
  );

  await step(
    'Set Component Inputs…: period 25 for sma_cross.py (what Test Order uses; the replay form starts from it)',
    async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await widget().locator('input.input').fill('>SPtrader: Set Component Inputs');
      await pick('SPtrader: Set Component Inputs');
      await pick('Parameters…');
      await inputShowing(/parameters \(from __metadata__/);
      await pick(/^period/);
      const input = await inputShowing(/period \(int, ≥ 2\)/);
      await input.fill('25');
      await page.keyboard.press('Enter');
      await until(
        'period 25 in the form',
        async () =>
          /period\s*= 25/.test(
            (
              await widget()
                .innerText()
                .catch(() => '')
            ).replace(/\s+/g, ' '),
          ),
        15_000,
      );
      await pick('Save');
      return toast(/use parameters period=25/);
    },
    { required: true },
  );

  await step(
    'Replay… asks for the data (the workspace CSV listed), then the symbol',
    async () => {
      await page.locator('.codelens-decoration a', { hasText: 'Replay…' }).first().click();
      await inputShowing(/Replay Component: data/);
      await pick('eurusd_m1_500.csv');
      const input = await inputShowing(/symbol/);
      const value = await input.inputValue();
      if (value !== 'EUR_USD') throw new Error(`the symbol offered is "${value}"`);
      await page.keyboard.press('Enter');
      return `symbol ${value}`;
    },
    { required: true },
  );

  await step(
    'the parameters come from __metadata__ with their defaults; period refuses 1 (its minimum) and takes 20',
    async () => {
      await inputShowing(/parameters \(from __metadata__\['parameters'\], starting from the component inputs\)/);
      const rows = (await widget().locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((t) =>
        t.replace(/\s+/g, ' ').trim(),
      );
      // period starts at the component inputs' 25, not its default 30.
      if (!rows.some((r) => /^period.*= 25.*int, ≥ 2/.test(r) && !/\(default\)/.test(r)))
        throw new Error(`rows: ${rows.join(' | ')}`);
      if (!rows.some((r) => /^quantity.*= 10000.*\(default\)/.test(r))) throw new Error(`rows: ${rows.join(' | ')}`);
      await page.screenshot({ path: join(RESULTS, 'replay-parameters.png') });
      await pick(/^period/);
      const input = await inputShowing(/period \(int, ≥ 2\)/);
      await input.fill('1');
      const message = await until(
        'the validation message',
        async () => {
          const text = (await widget().innerText()).replace(/\s+/g, ' ');
          return /period: 1 is below its minimum 2/.test(text) ? text : undefined;
        },
        10_000,
      );
      await input.fill('20');
      await until('the message gone', async () => !/below its minimum/.test(await widget().innerText()), 10_000);
      await page.keyboard.press('Enter');
      await inputShowing(/parameters \(from __metadata__/);
      const period = (
        await widget()
          .locator('.quick-input-list .monaco-list-row', { hasText: /^period/ })
          .first()
          .innerText()
      )
        .replace(/\s+/g, ' ')
        .trim();
      if (!/^period.*= 20/.test(period)) throw new Error(`period row "${period}"`);
      return `${message.match(/period: 1 is below its minimum 2[^|]*/)?.[0]?.slice(0, 120)} | ${period}`;
    },
    { required: true },
  );

  let frame;
  await step(
    'Run: the notification says what ran, and the panel shows COMPLETED with the same figures as the CLI',
    async () => {
      await pick('Run the replay');
      const said = await toast(/SPtrader Replay of SmaCross: 500 candles of EUR_USD/);
      frame = await replayPanel(/^COMPLETED$/, 120_000);
      const value = async (id) => {
        const v = await frame.locator(`#${id}`).getAttribute('data-value');
        return v === null || v === '' ? null : Number(v);
      };
      const checks = [
        ['fills', await value('fills'), cliReport.fills],
        ['orders produced', await value('orders-produced'), cliReport.orders.produced],
        ['orders filled', await value('orders-filled'), cliReport.orders.filled],
        ['realised P&L', await value('realized'), cliReport.pnl.realized.USD ?? 0],
        ['unrealised P&L', await value('unrealized'), cliReport.pnl.unrealized],
        ['commission', await value('commission'), cliReport.pnl.commission],
        ['P&L after costs', await value('pnl'), cliReport.curve.final],
        ['max drawdown', await value('drawdown'), cliReport.curve.drawdown.max],
        ['turnover', await value('turnover'), cliReport.curve.turnover],
        ['slippage cost', await value('slippage-cost'), cliReport.slippage.cost],
      ];
      const wrong = checks.filter(([, shown, cli]) => shown === null || Math.abs(shown - cli) > 1e-9);
      if (wrong.length > 0) throw new Error(`panel vs CLI: ${wrong.map(([n, s, c]) => `${n} ${s} ≠ ${c}`).join(', ')}`);
      const text = (id) => frame.locator(`#${id}`).innerText();
      const summary = await text('summary');
      if (!/^Ran all 500 candles in/.test(summary)) throw new Error(`summary "${summary}"`);
      // It ran under the user's settings, says so, and counts the parent orders (none for this component).
      const limits = await text('limits');
      if (!/^from your settings \(sptrader\.risk, sptrader\.circuitBreaker\): order ≤ 20,000 units/.test(limits))
        throw new Error(`limits "${limits}"`);
      const parents = await text('orders-parents');
      if (parents !== 'none') throw new Error(`parent orders "${parents}"`);
      const orderRows = await frame.locator('#orders-body tr').count();
      const fillRows = await frame.locator('#fills-body tr').count();
      if (orderRows !== cliReport.orders.produced || fillRows !== cliReport.fills)
        throw new Error(`tables: ${orderRows} orders, ${fillRows} fills`);
      await page.screenshot({ path: join(RESULTS, 'replay-panel.png') });
      return `${said} | P&L ${await text('pnl')}, max drawdown ${await text('drawdown')}, turnover ${await text('turnover')}, ${orderRows} orders / ${fillRows} fills in the tables | parent orders: ${parents} | risk limits ${limits}`;
    },
    { required: true },
  );

  await step('the equity curve and the price chart with the fill markers are drawn', async () => {
    // The toast would cover the charts in the screenshots.
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await widget().locator('input.input').fill('>Notifications: Clear All Notifications');
    await pick('Notifications: Clear All Notifications');
    const equity = frame.locator('#equity-chart');
    await equity.scrollIntoViewIfNeeded();
    await until('the equity chart drawn', async () => (await equity.locator('canvas').count()) > 0, 20_000);
    const box = await equity.boundingBox();
    if (!box || box.height < 100) throw new Error(`the equity chart is ${JSON.stringify(box)}`);
    await equity.screenshot({ path: join(RESULTS, 'replay-equity.png') });
    const price = frame.locator('#price-chart');
    await price.scrollIntoViewIfNeeded();
    if ((await price.locator('canvas').count()) === 0) throw new Error('no price chart');
    await price.screenshot({ path: join(RESULTS, 'replay-price.png') });
    const label = await frame.locator('#equity-label').innerText();
    const note = await frame.locator('#chart-note').innerText();
    if (!/^Equity, USD/.test(label)) throw new Error(`equity label "${label}"`);
    if (!new RegExp(`${cliReport.fills} fill markers`).test(note) && !/fill markers?/.test(note))
      throw new Error(`chart note "${note}"`);
    return `${label} | ${note} | test-results/replay-equity.png`;
  });

  await step('Export fills CSV writes every fill where the user says', async () => {
    rmSync(EXPORTED, { force: true });
    await frame.locator('#export-csv').click();
    // code-server's save dialog is a quick input holding a path.
    const input = await inputShowing(/Export the replay's fills as CSV/);
    // The dialog puts its default path in after it opens: replace it only once it is there.
    await until('the default path', async () => /fills-SmaCross\.csv$/.test(await input.inputValue()), 15_000);
    await input.fill(EXPORTED);
    await until('the path typed', async () => (await input.inputValue()) === EXPORTED, 10_000);
    // The dialog lists the folder as the path is typed; its OK button takes the path whatever the list shows.
    await widget().locator('.monaco-button', { hasText: /^OK$/ }).first().click();
    await until('the exported file', async () => existsSync(EXPORTED), 30_000);
    const lines = readFileSync(EXPORTED, 'utf8').trim().split('\n');
    if (lines.length !== cliReport.fills + 1) throw new Error(`${lines.length - 1} fills exported`);
    return `${lines.length - 1} fills in ${EXPORTED} (${lines[0]})`;
  });

  await step(
    'Cancel in the progress notification stops a slow replay: the panel says CANCELLED and how far it got',
    async () => {
      // 20 ms per candle and an order on each (500 candles: 10 s), so the cancel comes mid-batch.
      mkdirSync(dirname(SLOW), { recursive: true });
      writeFileSync(
        SLOW,
        [
          'import time',
          'from core.orders.order_base import OrderBase',
          '',
          'class SlowBars(OrderBase):',
          '    def generate_order(self, market_data, signal=None):',
          '        time.sleep(0.02)',
          "        if market_data['capital'] <= 0:",
          '            return None',
          "        side = 'buy' if market_data['bar_index'] % 2 == 0 else 'sell'",
          "        return {'symbol': 'EUR_USD', 'side': side, 'order_type': 'market', 'quantity': 1000}",
          '',
        ].join('\n'),
      );
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+P');
      const open = widget().locator('input.input');
      await open.waitFor({ state: 'visible', timeout: 15_000 });
      await open.fill(SLOW);
      await pick('slow_bars.py');
      const tab = page.locator('.tabs-container .tab.active', { hasText: 'slow_bars.py' });
      await tab.waitFor({ state: 'visible' });
      await page.locator('.editor-group-container', { has: tab }).locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('F1');
      await widget().locator('input.input').fill('>SPtrader: Replay Component');
      await pick('SPtrader: Replay Component');
      await inputShowing(/Replay Component: data/);
      await pick('eurusd_m1_500.csv');
      await inputShowing(/symbol/);
      await page.keyboard.press('Enter');
      const progress = page.locator('.notifications-toasts .notification-toast', { hasText: 'Replay SlowBars' });
      await progress.waitFor({ state: 'visible', timeout: 30_000 });
      // Some candles first (the message counts them as the component reads capital mid-batch), then Cancel.
      await until(
        'candles counted',
        async () => {
          const m = /([0-9,]+) of 500 candles/.exec(await progress.innerText().catch(() => ''));
          const n = m ? Number(m[1].replace(/,/g, '')) : 0;
          return n > 0 && n < 400;
        },
        30_000,
      );
      await page.screenshot({ path: join(RESULTS, 'replay-progress.png') });
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
      const said = await toast(/Replay of SlowBars cancelled after \d+ of 500 candles/);
      const cancelled = await replayPanel(/^CANCELLED$/, 30_000);
      const summary = (await cancelled.locator('#summary').innerText()).trim();
      const m = /^Cancelled after (\d+) of 500 candles/.exec(summary);
      if (!m || Number(m[1]) <= 0 || Number(m[1]) >= 500) throw new Error(`summary "${summary}"`);
      const fills = Number(await cancelled.locator('#fills').getAttribute('data-value'));
      if (fills !== Number(m[1])) throw new Error(`${fills} fills for ${m[1]} candles (one order per candle)`);
      await page.screenshot({ path: join(RESULTS, 'replay-cancelled.png') });
      return `${said} | ${summary}`;
    },
  );
}

await run(main, { setup: 'setup (code-server, Chromium)', serverLog: () => server?.logFile });
