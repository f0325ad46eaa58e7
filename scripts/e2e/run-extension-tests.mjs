#!/usr/bin/env node
// Runs test/e2e/extension/*.test.js inside a real VS Code (code-server + headless Chromium) through
// @vscode/test-electron's runTests, with scripts/e2e/code-server-shim.js as the "VS Code executable".
// The extension under test is the PACKAGED one, as users get it: the newest .vsix (`npm run package`)
// unzipped into a folder outside the repository, so nothing the repo's node_modules holds can stand in
// for what the package lacks. Builds nothing. Needs scripts/e2e/setup.sh.
// Prints `E2E extension host: N passed, N failed`; exits non-zero on any failure.
import { runTests } from '@vscode/test-electron';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { newestVsix, unzip } from './vsix.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const e2eDir = resolve(process.env.E2E_DIR || join(repo, '.e2e'));
const runDir = join(e2eDir, 'ext-run'); // fresh each run: the tests halt trading, and state persists in globalStorage
const resultFile = join(runDir, 'result.json');
const started = Date.now();

const vsix = newestVsix(repo);
if (!vsix) {
  console.error('no sptrader-execution-*.vsix: run `npm run package` first');
  process.exit(2);
}
rmSync(runDir, { recursive: true, force: true });
mkdirSync(runDir, { recursive: true });
const unpacked = join(tmpdir(), `sptrader-e2e-installed-${process.pid}`);
rmSync(unpacked, { recursive: true, force: true });
const entries = unzip(vsix, unpacked);
const extensionPath = join(unpacked, 'extension');
if (existsSync(join(extensionPath, 'node_modules'))) console.error('note: the package ships node_modules');
console.log(
  `[e2e] extension host runs the packaged extension: ${vsix} (${entries} entries) unpacked at ${extensionPath}`,
);

let failedRun = false;
try {
  await runTests({
    vscodeExecutablePath: join(repo, 'scripts/e2e/code-server-shim.js'),
    extensionDevelopmentPath: extensionPath,
    extensionTestsPath: join(repo, 'test/e2e/extension/index.js'),
    launchArgs: [
      join(repo, 'examples/workspace'),
      `--user-data-dir=${join(runDir, 'user-data')}`,
      `--extensions-dir=${join(runDir, 'extensions')}`,
    ],
    extensionTestsEnv: { E2E_RESULT_FILE: resultFile, E2E_DIR: e2eDir },
  });
} catch (e) {
  failedRun = true;
  console.error(`runTests: ${e.message}`);
}

let result = { passed: 0, failed: 0 };
try {
  result = JSON.parse(readFileSync(resultFile, 'utf8'));
} catch {
  failedRun = true;
  console.error('no test result was reported (the test runner did not finish)');
}
const failed = result.failed + (failedRun && result.failed === 0 ? 1 : 0);
console.log(
  `E2E extension host: ${result.passed} passed, ${failed} failed${result.pending ? `, ${result.pending} skipped` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
rmSync(unpacked, { recursive: true, force: true });
process.exit(failed > 0 || failedRun ? 1 : 0);
