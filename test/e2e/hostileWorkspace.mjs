#!/usr/bin/env node
// A hostile workspace in the real editor: the PACKAGED extension (.vsix) in code-server (VS Code 1.139),
// driven with Playwright. The user's settings hold a broker profile "oanda-practice" pointing at a local
// "venue" (a capture server standing in for OANDA); the opened folder is a cloned repository whose
// .vscode/settings.json redefines "oanda-practice" with a base URL on another capture server (the
// attacker's), makes it the active profile, turns live trading on and loosens every risk limit.
// The user then stores a token with Set Credentials (typed into the password box) and runs Test
// Connection, Connect and Test Order. The run proves:
//   - 0 requests carrying the token reach the attacker's server (and the user's server does get it, so
//     the count is not vacuous); the count is printed;
//   - the credential prompt named the user's endpoint, not the attacker's;
//   - live trading stays off (Execute Live… says so) and the loosened limits are not in effect (an order
//     of 5,000,000 units is denied by the default limits on Execute on Paper; the log shows the limits).
// Both capture servers are plain node:http servers on 127.0.0.1 that record every request with its
// headers and body. Trust is on for the folder (code-server runs with --disable-workspace-trust), the
// worst case: a person who trusted the clone.
// Needs scripts/e2e/setup.sh and `npm run package`. Prints `E2E hostile workspace: N passed, N failed`.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lib from '../../scripts/e2e/lib.js';
import { newestVsix, suite, until } from '../../scripts/e2e/suite.mjs';
import { chooseRow, workbench } from '../../scripts/e2e/page.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { E2E_DIR, log, seedSettings, startCodeServer, codeServerCli, launchBrowser } = lib;

const RUN_DIR = join(E2E_DIR, 'hostile-run');
const WORKSPACE = join(RUN_DIR, 'cloned-repo');
const RESULTS = join(repo, 'test-results');
const PROFILE = 'oanda-practice';
const TOKEN = `e2eTOKEN${randomBytes(12).toString('hex')}`;
const ACCOUNT = '101-004-1234567-001';
const TOTAL_TIMEOUT = Number(process.env.E2E_UI_TIMEOUT_MS || 420_000);

const results = [];
let server;
let browser;
let page;
const captures = [];

/** An HTTP server on 127.0.0.1 that records every request (method, url, headers, body) and answers 401. */
function captureServer(name) {
  const requests = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errorMessage: 'Insufficient authorization to perform request.' }));
    });
  });
  const ready = new Promise((r) => srv.listen(0, '127.0.0.1', () => r()));
  const capture = {
    name,
    requests,
    ready,
    get url() {
      return `http://127.0.0.1:${srv.address().port}`;
    },
    /** Requests with the token anywhere: a header, the URL or the body. */
    carrying: (secret) => requests.filter((r) => JSON.stringify([r.url, r.headers, r.body]).includes(secret)),
    close: () => new Promise((r) => srv.close(() => r())),
  };
  captures.push(capture);
  return capture;
}

const { step } = workbench(() => page, { results, resultsDir: RESULTS, prefix: 'hostile-' });

async function cleanup() {
  await browser?.close();
  await server?.stop();
  await Promise.all(captures.map((c) => c.close().catch(() => {})));
}

const { run } = suite({ title: 'hostile workspace', timeoutMs: TOTAL_TIMEOUT, results, cleanup });

/** Opens F1 with `text` typed, focusing the editor first (a focused webview keeps F1 to itself); retried. */
async function openPalette(text, expect) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await page.keyboard.press('Escape');
      const editor = page.locator('.monaco-editor .view-lines').first();
      if (await editor.isVisible()) await editor.click();
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input.input:visible');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${text}`);
      const row = page.locator('.quick-input-list .monaco-list-row:visible', { hasText: expect }).first();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      return row;
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

async function runFromPalette(title) {
  await chooseRow(page, await openPalette(title, title), title);
}

/** Picks the row naming `text` in an open quick pick. */
async function pick(text) {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row:visible', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await chooseRow(page, row, text);
}

/** Waits for the SPtrader log to gain a line matching `re` after `from` characters; returns the match. */
async function logLine(userDataDir, from, re, timeout) {
  return until(`a log line ${re}`, async () => re.exec(extensionLog(userDataDir).slice(from)), timeout);
}

/** The SPtrader output channel as written under the user-data dir. */
function extensionLog(userDataDir) {
  const files = [];
  const walk = (d) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/SPtrader\.log$/.test(e.name)) files.push(p);
    }
  };
  walk(join(userDataDir, 'logs'));
  return files.map((f) => readFileSync(f, 'utf8')).join('\n');
}

const BIG_ORDER = `"""An order far above the default risk limits (5,000,000 units): only loosened limits would let it through."""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'big_order',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Buys 5,000,000 units at market',
    'author': 'e2e',
    'status': 'ready',
    'order_types': ['market'],
    'inputs': ['market_data'],
    'outputs': ['order_request'],
    'parameters': {},
    'tags': ['e2e'],
}


class BigOrder(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 5_000_000, 'time_in_force': 'IOC'}
`;

async function openFile(name, folders) {
  const fileRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name });
  for (const folder of folders) {
    if (await fileRow.isVisible()) break;
    const row = page
      .locator('.explorer-folders-view .monaco-list-row[aria-expanded="false"]', { hasText: folder })
      .first();
    if ((await row.count()) === 0) continue;
    await row.click();
    await page
      .locator('.explorer-folders-view .monaco-list-row[aria-expanded="true"]', { hasText: folder })
      .first()
      .waitFor({ timeout: 10_000 });
  }
  await fileRow.first().click();
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ state: 'visible' });
  await page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible' });
  await page.locator('.monaco-editor .view-lines').first().click();
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (/^hostile-.*\.png$/.test(f)) rmSync(join(RESULTS, f));
  const vsix = newestVsix(repo);
  if (!vsix || !existsSync(vsix))
    throw new Error('no sptrader-execution-*.vsix in the repo root: run `npm run package` first');
  const venue = captureServer("the user's venue");
  const attacker = captureServer("the workspace's endpoint");
  await Promise.all([venue.ready, attacker.ready]);

  rmSync(RUN_DIR, { recursive: true, force: true });
  const userDataDir = join(RUN_DIR, 'user-data');
  const extensionsDir = join(RUN_DIR, 'extensions');
  // The user's own settings: their profile, at their venue.
  seedSettings(userDataDir, {
    'sptrader.brokerProfiles': [{ id: PROFILE, broker: 'oanda', environment: 'practice', baseUrl: venue.url }],
    'sptrader.activeProfile': 'paper',
  });
  // The cloned repository.
  cpSync(join(repo, 'examples/workspace'), WORKSPACE, { recursive: true });
  writeFileSync(join(WORKSPACE, 'big_order.py'), BIG_ORDER);
  mkdirSync(join(WORKSPACE, '.vscode'), { recursive: true });
  const loosened = {
    'sptrader.risk.maxOrderQuantity': 1e15,
    'sptrader.risk.maxPositionQuantity': 1e15,
    'sptrader.risk.maxOrderNotional': 1e15,
    'sptrader.risk.priceCollarBps': 1e9,
    'sptrader.circuitBreaker.maxConsecutiveFailures': null,
  };
  writeFileSync(
    join(WORKSPACE, '.vscode/settings.json'),
    JSON.stringify(
      {
        'sptrader.brokerProfiles': [
          { id: PROFILE, broker: 'oanda', environment: 'practice', baseUrl: attacker.url, displayName: PROFILE },
        ],
        'sptrader.activeProfile': PROFILE,
        'sptrader.live.enabled': true,
        ...loosened,
      },
      null,
      2,
    ),
  );
  log(`user's venue ${venue.url}; the workspace's endpoint ${attacker.url}`);

  await step(
    'install the packaged .vsix',
    async () => {
      codeServerCli(['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix]);
      const installed = readdirSync(extensionsDir).filter((d) => d.startsWith('sptrader.'));
      if (installed.length === 0) throw new Error('not installed');
      return installed.join(', ');
    },
    { required: true },
  );

  server = await startCodeServer({ userDataDir, extensionsDir });
  log(`code-server on ${server.origin} (log ${server.logFile})`);
  browser = await launchBrowser();
  page = await browser.browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(60_000);
  await page.goto(`${server.origin}/?folder=${encodeURIComponent(WORKSPACE)}`, { waitUntil: 'domcontentloaded' });

  await step(
    'the cloned repository opens, with the extension active',
    async () => {
      await page.locator('.monaco-workbench').waitFor({ state: 'visible' });
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible' });
      // The extension activates on a Python file; its status bar item appears once the core is up.
      await openFile('big_order.py', []);
      await page
        .locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: /ACTIVE|HALTED|REDUCING/ })
        .first()
        .waitFor({ timeout: 90_000 });
    },
    { required: true },
  );

  await step('Execute on Paper: the loosened workspace limits are not in effect (5,000,000 units denied)', async () => {
    const from = extensionLog(userDataDir).length;
    await page.locator('.monaco-editor .view-lines').first().click();
    await runFromPalette('SPtrader: Execute on Paper');
    const text = await logLine(userDataDir, from, /Denied before sending \((\w+)\)/, 90_000);
    await page.screenshot({ path: join(RESULTS, 'hostile-denied.png') });
    const codes = ['QUANTITY_EXCEEDS_MAXIMUM', 'NOTIONAL_EXCEEDS_MAX_PER_ORDER', 'POSITION_EXCEEDS_MAXIMUM'];
    if (!codes.includes(text[1])) throw new Error(`denied with ${text[1]}, not by a risk limit`);
    const effective = /Risk limits in effect: (\{[^}]*\})/.exec(extensionLog(userDataDir));
    if (!effective) throw new Error('the log does not show the limits in effect');
    const limits = JSON.parse(effective[1]);
    if (limits.maxOrderQuantity !== 1_000_000 || limits.maxOrderNotional !== 1_000_000)
      throw new Error(`limits in effect ${effective[1]}`);
    return `${text[1]}; limits in effect ${effective[1]}`;
  });

  await step(
    'Execute Live…: live trading stays off although the workspace turns it on (F1 does not offer it)',
    async () => {
      // The palette offers Execute Live… only when config.sptrader.live.enabled is on (package.json "when").
      await openPalette('SPtrader: Execute', 'SPtrader: Execute on Paper');
      const rows = (await page.locator('.quick-input-list .monaco-list-row:visible').allInnerTexts()).map((t) =>
        t.replace(/\s+/g, ' ').trim(),
      );
      await page.keyboard.press('Escape');
      if (rows.some((r) => /Execute Live/.test(r))) throw new Error(`F1 offers Execute Live…: ${rows.join(' | ')}`);
      return `F1 "SPtrader: Execute" offers: ${rows.join(' | ')}`;
    },
  );

  await step('Set Credentials: the password prompt names the user’s endpoint, not the workspace’s', async () => {
    const from = extensionLog(userDataDir).length;
    await runFromPalette('SPtrader: Set Credentials');
    await pick(PROFILE);
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    await input.waitFor({ state: 'visible' });
    await until('the token prompt', async () => /OANDA API token/.test(await widget.innerText()), 15_000);
    const prompt = (await widget.innerText()).replace(/\s+/g, ' ');
    await page.screenshot({ path: join(RESULTS, 'hostile-credentials.png') });
    await input.fill(TOKEN);
    await page.keyboard.press('Enter');
    await until('the account prompt', async () => /OANDA account id/.test(await widget.innerText()), 15_000);
    await input.fill(ACCOUNT);
    await page.keyboard.press('Enter');
    if (!prompt.includes(venue.url.replace('http://', '')))
      throw new Error(`the prompt does not name ${venue.url}: "${prompt}"`);
    if (prompt.includes(attacker.url.replace('http://', '')))
      throw new Error(`the prompt names the workspace's endpoint: "${prompt}"`);
    await logLine(userDataDir, from, /Credentials for profile "oanda-practice" .*: 2 value\(s\) stored/, 15_000);
    return `prompt: "${prompt.slice(0, 160)}"`;
  });

  const attempt = async (label, run) => {
    const before = venue.requests.length;
    await page.keyboard.press('Escape');
    await run();
    // Each attempt reaches the user's venue (401) and fails; wait for the venue to see it, then a moment for stragglers.
    await until(`${label} reaching the user's venue`, async () => venue.requests.length > before, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    return `${venue.requests.length - before} request(s) to the user's venue`;
  };

  await step('Check Connection of the profile goes to the user’s venue only', () =>
    attempt('Check Connection', async () => {
      await runFromPalette('SPtrader: Check Connection');
      await pick(PROFILE);
    }),
  );

  await step('Connect of the profile goes to the user’s venue only', () =>
    attempt('Connect', async () => {
      await runFromPalette('SPtrader: Connect');
      await pick(PROFILE);
    }),
  );

  await step('Test Order on the workspace’s active profile goes to the user’s venue only', () =>
    attempt('Test Order', async () => {
      // Test Order connects the active profile (the workspace chose it) before it runs the component.
      await page.locator('.monaco-editor .view-lines').first().click();
      await runFromPalette('SPtrader: Test Order');
    }),
  );

  await step('the stored token never reached the workspace’s endpoint', async () => {
    await new Promise((r) => setTimeout(r, 2000));
    const leaked = attacker.carrying(TOKEN).length;
    const delivered = venue.carrying(TOKEN).length;
    console.log(
      `    token-carrying requests: ${leaked} to the workspace's endpoint (${attacker.requests.length} request(s) there in all), ` +
        `${delivered} to the user's venue (${venue.requests.length} in all)`,
    );
    if (leaked !== 0) throw new Error(`${leaked} request(s) carried the token to ${attacker.url}`);
    if (attacker.requests.length !== 0)
      throw new Error(`${attacker.requests.length} request(s) reached ${attacker.url}`);
    if (delivered === 0) throw new Error('the token never reached the user’s venue either: the check proves nothing');
    const auth = venue.carrying(TOKEN)[0].headers.authorization ?? '';
    return `user's venue saw it as "${auth.replace(TOKEN, '<token>')}"`;
  });

  await step('the log says what the workspace tried and never holds the token', async () => {
    const text = extensionLog(userDataDir);
    if (text.includes(TOKEN)) throw new Error('the token is in the log');
    const lines = text.split('\n').filter((l) => /Workspace settings:/.test(l));
    if (!lines.some((l) => /sptrader\.risk\.maxOrderQuantity/.test(l)))
      throw new Error('the ignored loosened limit is not reported');
    // brokerProfiles and live.enabled are application-scoped: the editor may drop them before the extension sees them.
    const seen = ['brokerProfiles', 'live.enabled'].map(
      (k) =>
        `${k}: ${lines.some((l) => l.includes(`sptrader.${k}`)) ? 'seen and ignored by SPtrader' : 'dropped by the editor (application scope)'}`,
    );
    return seen.join('; ');
  });
}

await run(main, { setup: 'setup (capture servers, code-server, Chromium)', serverLog: () => server?.logFile });
