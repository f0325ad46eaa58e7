// Bundles the extension and the CLI with esbuild. `vscode` stays external (the editor provides it);
// broker SDKs are loaded lazily by the code that needs them, so activation stays cheap.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

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

await Promise.all([
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', ...sdks] }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, external: sdks }),
]);
await chmod('dist/cli.js', 0o755);
