// Test runner loaded by VS Code's extension host (the `extensionTestsPath` of runTests): runs every
// *.test.js next to it with mocha (tdd) against the real `vscode` API, in code-server's Node 24
// remote extension host. Plain CommonJS: nothing to compile.
// Logs one marker line `E2E-RESULT {"passed":N,"failed":N,...}` that the shim/runner read.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run without a build */
const fs = require('node:fs');
const path = require('node:path');

async function loadMocha() {
  try {
    const m = require('mocha'); // mocha 12 is ESM; Node 24 can require() it
    return m.default ?? m;
  } catch {
    const m = await import('mocha');
    return m.default ?? m;
  }
}

async function run() {
  const Mocha = await loadMocha();
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, slow: 10_000 });
  const grep = process.env.E2E_GREP;
  if (grep) mocha.grep(grep);
  for (const f of fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort())
    mocha.addFile(path.join(__dirname, f));
  await mocha.loadFilesAsync();
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const s = runner.stats ?? {};
      const result = { passed: s.passes ?? 0, failed: s.failures ?? failures, pending: s.pending ?? 0 };
      console.log(`E2E-RESULT ${JSON.stringify(result)}`);
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
  });
}

module.exports = { run };
