// Bundles the extension, the CLI and the result panel's webview script with esbuild. `vscode` stays
// external (the editor provides it); broker SDKs are loaded lazily by the code that needs them, so
// activation stays cheap. The chart library is copied into media/vendor/ for the webview: it never
// enters the extension bundle.
import { build } from 'esbuild';
import { chmod, copyFile, mkdir } from 'node:fs/promises';

const production = process.argv.includes('--production');
// Broker SDKs are large (ccxt alone is megabytes) and are required only when a profile of theirs is
// used: they stay out of the bundles and load from node_modules on first use.
const sdks = ['ccxt', '@alpacahq/alpaca-trade-api', '@stoqey/ib'];
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

await mkdir('media/vendor', { recursive: true });
await Promise.all([
  // Activation loads only the shell; the core follows right after (see src/extension.ts).
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', './core.js'] }),
  build({ ...common, entryPoints: ['src/core.ts'], outfile: 'dist/core.js', external: ['vscode', ...sdks] }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, external: sdks }),
  // The webview script: the shared protocol (zod) and the renderer, for the browser, no Node.
  build({
    ...common,
    entryPoints: ['src/views/webview/result.ts'],
    outfile: 'media/result.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: production ? false : 'inline',
  }),
  copyFile('node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js', 'media/vendor/lightweight-charts.standalone.production.js'),
  copyFile('node_modules/lightweight-charts/LICENSE', 'media/vendor/lightweight-charts.LICENSE'),
]);
await chmod('dist/cli.js', 0o755);
