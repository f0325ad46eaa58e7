#!/usr/bin/env node
// The CLI inside the PACKAGED extension, as a user gets it (issue 12): the .vsix from `npm run package`
// is unzipped into a folder outside the repository (no node_modules reachable, no NODE_PATH, HOME in the
// folder, DNS only for 127.0.0.1) and its extension/dist/cli.js runs `test-order` against each venue's
// local fake (test/fakes/*, compiled into out/), credentials in SPTRADER_* variables. Checks:
//   - none of ccxt, @alpacahq/alpaca-trade-api, @stoqey/ib can be found from the unpacked folder;
//   - the package holds dist/sdk/{ccxt-binance,alpaca,ib}.js, each loads alone in a plain node and
//     offers what its adapter uses; dist/extension.js requires none of them;
//   - each venue: exit 0, the SDK connected to the fake and the order is at the fake once.
// Prints the .vsix size, each chunk's size and load time, and each run's time.
// Packages first when no sptrader-execution-*.vsix is newer than the sources (that rewrites dist/ with
// the production build); scripts/e2e/run-all.sh runs it right after packaging.
// Prints `E2E cli from vsix: N passed, N failed`; exit 1 if any failed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestVsix as newestVsixIn, unzip } from '../../scripts/e2e/vsix.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

function newestMtime(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

const newestVsix = () => newestVsixIn(repo);

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const results = [];
async function check(name, body) {
  const started = Date.now();
  try {
    const note = await body();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - started} ms)${note ? `: ${note}` : ''}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(
      `  ✘ ${name} (${Date.now() - started} ms)\n${String(e instanceof Error ? e.message : e).replace(/^/gm, '      ')}`,
    );
  }
}

// The fakes and the runs are TypeScript, compiled by `tsc -p tsconfig.test.json` into out/.
const helper = join(repo, 'out/test/unit/package/fromPackage.js');
if (
  !existsSync(helper) ||
  statSync(helper).mtimeMs < Math.max(...['test/unit/package', 'test/fakes'].map((p) => newestMtime(join(repo, p))))
) {
  spawnSync('npx', ['tsc', '-p', 'tsconfig.test.json'], { cwd: repo, stdio: 'inherit' });
}
const {
  assertVenueRun,
  chunkFigures,
  resolvableSdkPackages,
  runAtVenue,
  scratch,
  SDK_CHUNKS,
  SDK_PACKAGES,
  VENUES,
} = require(helper);

let vsix = newestVsix();
const sources = Math.max(
  ...['src', 'python', 'scripts/build.mjs', '.vscodeignore', 'package.json'].map((p) => newestMtime(join(repo, p))),
);
if (!vsix || statSync(vsix).mtimeMs < sources) {
  console.log('[cliFromVsix] no .vsix newer than the sources: npm run package');
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  vsix = newestVsix();
}

const work = scratch('sptrader-vsix-');
const extension = join(work.dir, 'extension');
console.log(`E2E cli from vsix: ${vsix} (${kib(statSync(vsix).size)}) unzipped into ${work.dir}`);
try {
  await check('unzip the .vsix', () => `${unzip(vsix, work.dir)} files`);
  await check('none of the SDK packages can be found from the unpacked folder', () => {
    const found = resolvableSdkPackages(extension, work.env);
    if (found.length > 0) throw new Error(`found ${found.join(', ')}: the runs could fall back on node_modules`);
  });
  await check('dist/extension.js requires no SDK chunk or package', () => {
    const text = readFileSync(join(extension, 'dist/extension.js'), 'utf8');
    const required = [...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    const bad = required.filter(
      (r) => r.includes('sdk/') || SDK_PACKAGES.some((p) => r === p || r.startsWith(`${p}/`)),
    );
    if (bad.length > 0) throw new Error(`dist/extension.js requires ${bad.join(', ')}`);
    return `${kib(statSync(join(extension, 'dist/extension.js')).size)}, requires ${[...new Set(required)].join(', ')}`;
  });
  await check('each chunk loads alone in a plain node, offering what its adapter uses', () => {
    const needs = {
      'ccxt-binance': ['binance'],
      alpaca: ['Alpaca', 'ApiError', 'FetchError'],
      ib: ['IBApi', 'EventName'],
    };
    const figures = chunkFigures(extension, work.env);
    for (const f of figures) {
      const missing = needs[f.chunk].filter((n) => !f.exports.includes(n));
      if (missing.length > 0) throw new Error(`${f.chunk}.js lacks ${missing.join(', ')}`);
    }
    if (figures.length !== SDK_CHUNKS.length) throw new Error('a chunk is missing');
    return figures.map((f) => `${f.chunk}.js ${kib(f.bytes)} loads in ${f.loadMs.toFixed(0)} ms`).join('; ');
  });
  for (const venue of VENUES) {
    await check(`extension/dist/cli.js test-order --broker ${venue} against the fake`, async () => {
      const run = await runAtVenue(extension, venue, work);
      assertVenueRun(run);
      return `exit ${run.code}, ${run.wallMs} ms, ${run.requests} requests at the fake, orders there ${run.ordersAtVenue}`;
    });
  }
} finally {
  work.dispose();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`E2E cli from vsix: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
