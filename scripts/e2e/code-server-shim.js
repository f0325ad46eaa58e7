#!/usr/bin/env node
// Stands in for the VS Code executable that @vscode/test-electron's runTests() spawns
// (pass this file as `vscodeExecutablePath`). It understands the arguments runTests gives
// (--extensionDevelopmentPath, --extensionTestsPath, --user-data-dir, --extensions-dir, a folder)
// and runs the tests in a real VS Code: code-server (its Node 24 remote extension host) with a
// headless Chromium showing the workbench. The workbench reads the test locations from the
// `payload` URL parameter (honoured because of `enable-smoke-test-driver`), runs the tests in
// the extension host, reports output through window.codeAutomationLog and the result through
// window.codeAutomationExit; this process exits with that code.
//
// Env: E2E_TEST_TIMEOUT_MS (default 300000), E2E_RESULT_FILE (optional: the marker line
// `E2E-RESULT {json}` logged by the test runner is written there), E2E_VERBOSE=1 (browser console),
// plus the paths read by lib.js. The code-server log is kept in $E2E_DIR/logs/.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run without a build */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { log, seedSettings, startCodeServer, launchBrowser, remoteUri, tail } = require('./lib');

// Workbench chatter that is expected offline (no gallery, no GitHub auth); shown with E2E_VERBOSE=1.
const NOISE =
  /^(Resolving connection token|Resolved connection token|Creating a socket|\[reconnection-grace-time\]|Updating additional builtin extensions cache|\[Service Worker\]|\[AccountPolicyGate\]|\[AgentHost|Creation of workbench contribution|Timed out waiting for authentication provider|getaddrinfo ENOTFOUND (open-vsx\.org|.*\.microsoft\.com))/;
const TEST_TIMEOUT_MS = Number(process.env.E2E_TEST_TIMEOUT_MS || 300_000);

function parseArgs(argv) {
  const opts = { extensionDevelopmentPath: [], folders: [] };
  const valued = new Set(['extensionDevelopmentPath', 'extensionTestsPath', 'user-data-dir', 'extensions-dir']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      opts.folders.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!valued.has(name)) continue; // --no-sandbox, --disable-updates, ...: irrelevant here
    const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
    if (name === 'extensionDevelopmentPath') opts.extensionDevelopmentPath.push(value);
    else opts[name] = value;
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.extensionTestsPath || opts.extensionDevelopmentPath.length === 0)
    throw new Error(
      'need --extensionTestsPath and --extensionDevelopmentPath (as @vscode/test-electron runTests passes them)',
    );
  if (opts.extensionDevelopmentPath.length > 1)
    log(`only the first --extensionDevelopmentPath is used by the web workbench: ${opts.extensionDevelopmentPath[0]}`);
  const userDataDir = path.resolve(opts['user-data-dir'] || fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-ud-')));
  const extensionsDir = path.resolve(opts['extensions-dir'] || path.join(userDataDir, '..', 'extensions'));
  seedSettings(userDataDir);

  let server;
  let browser;
  let finished = false;
  const cleanup = async () => {
    await browser?.close();
    await server?.stop();
  };
  const onSignal = (sig, code) => () => {
    if (finished) return;
    finished = true;
    log(`${sig}: stopping`);
    cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal('SIGINT', 130));
  process.on('SIGTERM', onSignal('SIGTERM', 143));

  let code = 1;
  try {
    const t0 = Date.now();
    server = await startCodeServer({ userDataDir, extensionsDir, env: { VSCODE_E2E_USER_DATA_DIR: userDataDir } });
    log(`code-server ready on ${server.origin} in ${Date.now() - t0} ms (log ${server.logFile})`);
    browser = await launchBrowser();
    const page = await browser.browser.newPage();
    let resolveExit;
    const exit = new Promise((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationExit', (c) => resolveExit({ code: Number(c) || 0 }));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = util.format(...(Array.isArray(args) ? args : [args]));
      if (!process.env.E2E_VERBOSE && NOISE.test(line)) return;
      if (process.env.E2E_RESULT_FILE && line.startsWith('E2E-RESULT '))
        fs.writeFileSync(process.env.E2E_RESULT_FILE, line.slice('E2E-RESULT '.length));
      process.stdout.write(line + '\n');
    });
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    if (process.env.E2E_VERBOSE) page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));

    const payload = [
      ['extensionDevelopmentPath', remoteUri(server.port, opts.extensionDevelopmentPath[0])],
      ['extensionTestsPath', remoteUri(server.port, opts.extensionTestsPath)],
    ];
    const folder = opts.folders[0];
    const where = folder
      ? (folder.endsWith('.code-workspace') ? 'workspace' : 'folder') +
        '=' +
        encodeURIComponent(path.resolve(folder)) +
        '&'
      : '';
    const url = `${server.origin}/?${where}payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    log(`workbench loading; tests time out after ${TEST_TIMEOUT_MS / 1000}s`);

    let timer;
    const result = await Promise.race([
      exit,
      server.exited.then((e) => ({ code: 1, why: `code-server exited (${e.code ?? e.signal})` })),
      new Promise((r) => page.once('crash', () => r({ code: 1, why: 'the page crashed' }))),
      new Promise(
        (r) =>
          (timer = setTimeout(
            () => r({ code: 1, why: `timed out after ${TEST_TIMEOUT_MS / 1000}s` }),
            TEST_TIMEOUT_MS,
          )),
      ),
    ]);
    clearTimeout(timer);
    code = result.code;
    if (result.why) {
      log(`FAILED: ${result.why}; code-server log tail:\n${tail(server.logFile)}`);
      await page
        .screenshot({ path: path.join(path.dirname(server.logFile), `shim-failure-${server.port}.png`) })
        .catch(() => {});
    }
  } catch (e) {
    log(`FAILED: ${e.stack || e}`);
    code = 1;
  } finally {
    if (!finished) {
      finished = true;
      await cleanup();
    }
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
