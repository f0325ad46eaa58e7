/**
 * The Alpaca adapter's client, bundled on its own into dist/sdk/alpaca.js (scripts/build.mjs) and required
 * on the adapter's first connect. All of `/rest` is re-exported: the package is CommonJS, so naming fewer
 * exports would not make the chunk smaller, and the chunk then offers everything the adapter's type names.
 */
export * from '@alpacahq/alpaca-trade-api/rest';
