#!/usr/bin/env node
// Runs test/e2e/extension/*.test.js inside a real VS Code (code-server + headless Chromium) through
// @vscode/test-electron's runTests, with scripts/e2e/code-server-shim.js as the "VS Code executable".
// Builds nothing: run `npm run build` first (the extension is loaded from dist/). Needs scripts/e2e/setup.sh.
// Prints `E2E extension host: N passed, N failed`; exits non-zero on any failure.
import { runTests } from '@vscode/test-electron';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const e2eDir = resolve(process.env.E2E_DIR || join(repo, '.e2e'));
const runDir = join(e2eDir, 'ext-run'); // fresh each run: the tests halt trading, and state persists in globalStorage
const resultFile = join(runDir, 'result.json');
const started = Date.now();

if (!existsSync(join(repo, 'dist/extension.js'))) {
  console.error('dist/extension.js is missing: run `npm run build` first');
  process.exit(2);
}
rmSync(runDir, { recursive: true, force: true });
mkdirSync(runDir, { recursive: true });

let failedRun = false;
try {
  await runTests({
    vscodeExecutablePath: join(repo, 'scripts/e2e/code-server-shim.js'),
    extensionDevelopmentPath: repo,
    extensionTestsPath: join(repo, 'test/e2e/extension/index.js'),
    launchArgs: [join(repo, 'examples/workspace'), `--user-data-dir=${join(runDir, 'user-data')}`, `--extensions-dir=${join(runDir, 'extensions')}`],
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
process.exit(failed > 0 || failedRun ? 1 : 0);
