/**
 * Activation cost of the bundled extension: loading `dist/extension.js` (the production bundle) and
 * running `activate()`, in a fresh Node process each time, against a stand-in `vscode` module that
 * answers every API call at once (so the figure is the extension's own work, not the editor's).
 * The floor is a fresh process loading an empty module the same way. Also the bundle's size, and
 * that no broker SDK is loaded by activation.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { quantile } from './stats';

const ROOT = resolve(__dirname, '../..');

/** Runs in the child: a universal stand-in for `vscode`, then require + activate, timed. */
const CHILD = String.raw`
const Module = require('module');
const handler = {
  get(target, prop) {
    if (prop === 'then') return undefined;
    if (prop === Symbol.toPrimitive) return () => '';
    if (prop === Symbol.iterator) return function* () {};
    if (!(prop in target)) target[prop] = stub();
    return target[prop];
  },
  set(target, prop, value) { Reflect.defineProperty(target, prop, { value, writable: true, configurable: true, enumerable: true }); return true; },
  apply() { return stub(); },
  construct() { return stub(); },
  // esbuild's interop copies the module's own enumerable keys: list the API's namespaces and classes.
  ownKeys(target) { return [...new Set([...Reflect.ownKeys(target), ...NAMES])]; },
  getOwnPropertyDescriptor(target, prop) {
    if (NAMES.includes(prop)) return { value: handler.get(target, prop), enumerable: true, configurable: true, writable: true };
    return Reflect.getOwnPropertyDescriptor(target, prop);
  },
};
const NAMES = ['window', 'workspace', 'commands', 'languages', 'env', 'extensions', 'l10n', 'Uri', 'EventEmitter', 'Disposable',
  'StatusBarAlignment', 'ThemeColor', 'ThemeIcon', 'TreeItem', 'TreeItemCollapsibleState', 'ProgressLocation', 'ViewColumn',
  'DiagnosticSeverity', 'Diagnostic', 'Range', 'Position', 'Selection', 'CodeLens', 'MarkdownString', 'ConfigurationTarget',
  'RelativePattern', 'TextEditorRevealType', 'LogLevel', 'QuickPickItemKind', 'CancellationTokenSource'];
function stub() { const f = function () {}; return new Proxy(f, handler); }
const vscode = stub();
// Settings are unset: every get() answers undefined, so the defaults apply as on a fresh install.
vscode.workspace.getConfiguration = () => ({ get: (_k, d) => d, has: () => false, inspect: () => undefined, update: async () => undefined });
vscode.workspace.isTrusted = true;
const origLoad = Module._load;
Module._load = function (request, parent, isMain) { return request === 'vscode' ? vscode : origLoad.apply(this, arguments); };
const file = process.argv[1];
const t0 = process.hrtime.bigint();
const ext = require(file);
const t1 = process.hrtime.bigint();
const context = stub();
context.subscriptions = [];
context.globalStorageUri = { fsPath: require('os').tmpdir() + '/sptrader-activation-bench' };
context.extensionUri = { fsPath: process.cwd() };
context.extensionPath = process.cwd();
if (typeof ext.activate === 'function') ext.activate(context);
const t2 = process.hrtime.bigint();
// What the shell loads right after activation returns (timed here, so its timer finds it cached).
const coreFile = require('path').join(require('path').dirname(file), 'core.js');
let coreMs = null;
if (require('fs').existsSync(coreFile)) { const c0 = process.hrtime.bigint(); require(coreFile); coreMs = Number(process.hrtime.bigint() - c0) / 1e6; }
const sdk = Object.keys(require.cache).filter((k) => /ccxt|alpaca-trade-api|@stoqey|[\\/]sdk[\\/]/.test(k)).length;
process.stdout.write(JSON.stringify({ load: Number(t1 - t0) / 1e6, activate: Number(t2 - t1) / 1e6, core: coreMs, sdk }));
setTimeout(() => process.exit(0), 20);
`;

function run(file: string): { load: number; activate: number; core: number | null; sdk: number } {
  const r = spawnSync(process.execPath, ['-e', CHILD, file], { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0) throw new Error(`activation child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { load: number; activate: number; core: number | null; sdk: number };
}

export async function benchActivation(): Promise<void> {
  console.log(
    '\n## Activation of the bundled extension (production bundle, fresh process per sample, stand-in vscode module)',
  );
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--production'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`production build failed: ${build.stderr}`);
  const bundle = join(ROOT, 'dist/extension.js');
  const size = statSync(bundle).size;
  const coreSize = statSync(join(ROOT, 'dist/core.js')).size;
  const empty = join(ROOT, 'out/bench/stats.js');
  const samples = Number(process.env['ACTIVATION_RUNS'] ?? 30);
  const totals: number[] = [];
  const loads: number[] = [];
  const activates: number[] = [];
  const floor: number[] = [];
  const cores: number[] = [];
  let sdk = 0;
  for (let i = 0; i < samples; i++) {
    const r = run(bundle);
    loads.push(r.load);
    activates.push(r.activate);
    totals.push(r.load + r.activate);
    sdk = Math.max(sdk, r.sdk);
    if (r.core !== null) cores.push(r.core);
    floor.push(run(empty).load);
  }
  const p50 = quantile(totals, 0.5);
  console.log(
    `dist/extension.js (activation shell): ${(size / 1024).toFixed(0)} KiB; dist/core.js: ${(coreSize / 1024).toFixed(0)} KiB (target < 1 MB each: ${size < 1_000_000 && coreSize < 1_000_000 ? 'MET' : 'NOT MET'})`,
  );
  console.log(`floor: require of a trivial module  p50 ${quantile(floor, 0.5).toFixed(2)} ms`);
  console.log(
    `require(dist/extension.js)          p50 ${quantile(loads, 0.5).toFixed(2)} ms  p90 ${quantile(loads, 0.9).toFixed(2)} ms`,
  );
  console.log(
    `activate()                          p50 ${quantile(activates, 0.5).toFixed(2)} ms  p90 ${quantile(activates, 0.9).toFixed(2)} ms`,
  );
  console.log(
    `activation total                    p50 ${p50.toFixed(2)} ms (target < 20 ms: ${p50 < 20 ? 'MET' : 'NOT MET'}); broker SDK modules loaded: ${sdk}`,
  );
  if (cores.length > 0)
    console.log(
      `core (dist/core.js), loaded just after activation returns: p50 ${quantile(cores, 0.5).toFixed(2)} ms, off the activation path`,
    );
  // Leave the development build in place for tests that follow.
  spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
}
