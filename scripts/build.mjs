// Bundles the extension, the CLI, each broker SDK and the result panel's webview script with esbuild.
// `vscode` stays external (the editor provides it). The chart library is copied into media/vendor/ for
// the webview: it never enters the extension bundle.
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const production = process.argv.includes('--production');
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

// Broker SDKs are large and needed only when a profile of theirs is used. The .vsix ships no
// node_modules, so each venue's client is bundled on its own into dist/sdk/<chunk>.js, which the adapter
// requires on its first connect: the extension and the CLI pay for an SDK only when its venue is used.
// The adapters keep requiring the package name (tests compiled by tsc load it from node_modules); in the
// bundles that name becomes the chunk's relative path (sdkChunks, below). dist/core.js and dist/cli.js sit
// beside dist/sdk/.
const sdkPackages = /^(ccxt|@alpacahq\/alpaca-trade-api|@stoqey\/ib)(\/.*)?$/;

/** In the extension and CLI bundles: an SDK import becomes a require of its chunk; any other path into an SDK package is an error. */
const sdkAsChunk = {
  name: 'sdk-as-chunk',
  setup(b) {
    b.onResolve({ filter: sdkPackages }, (args) => {
      const sdk = sdkChunks.find((s) => s.specifier === args.path);
      if (sdk) return { path: `./sdk/${sdk.chunk}.js`, external: true };
      return {
        errors: [
          {
            text: `"${args.path}" has no chunk: import one of ${sdkChunks.map((s) => s.specifier).join(', ')}, or add a chunk to sdkChunks in scripts/build.mjs`,
          },
        ],
      };
    });
  },
};

// zod's classic entry and its core re-export every locale (`export * as locales`), about 260 KB minified that no bundler
// drops; SPtrader uses the English messages zod registers by default, so `z.locales` holds English only.
// Half of each webview script and a third of the core: less to parse when a panel opens.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.(c?js)$/ }, (args) =>
      /zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.c?js$/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-en' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

// ccxt's main file builds every exchange (about 6 MB bundled, whatever is imported from it). Binance's
// chunk takes the binance class file alone. base/Exchange.js imports a few files of other exchanges
// dynamically (mexc's protobuf messages, dYdX's transaction types) only when such an exchange runs;
// those are left out, as a module that says so if it is ever reached.
const ccxtRoot = join(dirname(createRequire(import.meta.url).resolve('ccxt')), '..');
const ccxtBinanceOnly = {
  name: 'ccxt-binance-only',
  setup(b) {
    b.onResolve({ filter: /^ccxt$/ }, () => ({ path: 'ccxt', namespace: 'ccxt-binance' }));
    b.onLoad({ filter: /.*/, namespace: 'ccxt-binance' }, () => ({
      contents: `export { default as binance } from ${JSON.stringify(join(ccxtRoot, 'js/src/binance.js'))};`,
      resolveDir: ccxtRoot,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.kind === 'dynamic-import' && /ccxt[\\/]js[\\/]src[\\/]base[\\/]Exchange\.js$/.test(args.importer)
        ? { path: args.path, namespace: 'left-out' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`ccxt's ${args.path} is not in this build: only Binance is`)});`,
      loader: 'js',
    }));
  },
};

// @stoqey/ib calls dotenv.config() when it first reads its settings: that would load a .env file from
// the working directory (the user's project, for the CLI) into the environment of the whole process,
// where SPTRADER_* variables live. The adapter passes host, port and client id itself; the chunk reads
// no .env.
const ibWithoutDotenv = {
  name: 'ib-without-dotenv',
  setup(b) {
    b.onResolve({ filter: /^dotenv$/ }, () => ({ path: 'dotenv', namespace: 'no-dotenv' }));
    b.onLoad({ filter: /.*/, namespace: 'no-dotenv' }, () => ({
      contents: 'module.exports = { config: () => ({ parsed: {} }) };',
      loader: 'js',
    }));
  },
};

const sdkChunks = [
  { specifier: 'ccxt', entry: 'src/sdk/ccxtBinance.ts', chunk: 'ccxt-binance', plugins: [ccxtBinanceOnly] },
  { specifier: '@alpacahq/alpaca-trade-api/rest', entry: 'src/sdk/alpaca.ts', chunk: 'alpaca', plugins: [] },
  { specifier: '@stoqey/ib', entry: 'src/sdk/ib.ts', chunk: 'ib', plugins: [ibWithoutDotenv] },
];

// The chunks' licences, the notices their MIT/ISC/Apache terms ask to keep with copies.
async function writeSdkNotices(metafiles) {
  const packages = new Map();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      // The innermost node_modules/<package>/ of the path: a nested copy is a package of its own.
      const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
      if (match) packages.set(match[1], match[2]);
    }
  }
  const parts = [];
  for (const [dir, name] of [...packages].sort((a, b) => a[1].localeCompare(b[1]))) {
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    let text = '';
    for (const file of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE']) {
      text = await readFile(join(dir, file), 'utf8').catch(() => '');
      if (text) break;
    }
    parts.push(
      `${name} ${manifest.version} (${manifest.license ?? 'see package'})\n\n${text.trim() || `Licensed under ${manifest.license}.`}\n`,
    );
  }
  await writeFile(
    'dist/sdk/THIRD-PARTY-NOTICES.txt',
    `Packages bundled into dist/sdk/*.js\n\n${parts.join('\n' + '-'.repeat(80) + '\n\n')}`,
  );
}

await mkdir('media/vendor', { recursive: true });
// A chunk no longer listed must not stay behind to be packaged.
await rm('dist/sdk', { recursive: true, force: true });
const chunkBuilds = sdkChunks.map((sdk) =>
  build({
    ...common,
    entryPoints: [sdk.entry],
    outfile: `dist/sdk/${sdk.chunk}.js`,
    metafile: true,
    // ws loads these native speed-ups in a try/catch and falls back to JavaScript; ccxt imports undici
    // only when no fetch is supplied (the adapter supplies one) or for a proxy.
    external: ['bufferutil', 'utf-8-validate', 'undici'],
    plugins: sdk.plugins,
  }),
);
await Promise.all([
  // Activation loads only the shell; the core follows right after (see src/extension.ts).
  build({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode', './core.js'],
  }),
  build({
    ...common,
    entryPoints: ['src/core.ts'],
    outfile: 'dist/core.js',
    external: ['vscode'],
    plugins: [sdkAsChunk, zodEnglishOnly],
  }),
  // The worker thread Parquet replay data is decoded in (src/brokers/paper/replayTables.ts), beside core.js and cli.js.
  build({
    ...common,
    entryPoints: ['src/brokers/paper/parquetWorker.ts'],
    outfile: 'dist/parquetWorker.js',
    plugins: [zodEnglishOnly],
  }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
    plugins: [sdkAsChunk, zodEnglishOnly],
  }),
  // The webview scripts (result and compare panels): each protocol (zod) and renderer, for the browser, no Node.
  build({
    ...common,
    entryPoints: ['src/views/webview/result.ts'],
    outfile: 'media/result.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    plugins: [zodEnglishOnly],
    sourcemap: production ? false : 'inline',
  }),
  build({
    ...common,
    entryPoints: ['src/views/webview/compare.ts'],
    outfile: 'media/compare.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    plugins: [zodEnglishOnly],
    sourcemap: production ? false : 'inline',
  }),
  build({
    ...common,
    entryPoints: ['src/views/webview/replay.ts'],
    outfile: 'media/replay.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    plugins: [zodEnglishOnly],
    sourcemap: production ? false : 'inline',
  }),
  ...chunkBuilds,
  copyFile(
    'node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js',
    'media/vendor/lightweight-charts.standalone.production.js',
  ),
  copyFile('node_modules/lightweight-charts/LICENSE', 'media/vendor/lightweight-charts.LICENSE'),
]);
await writeSdkNotices((await Promise.all(chunkBuilds)).map((result) => result.metafile));
await chmod('dist/cli.js', 0o755);
