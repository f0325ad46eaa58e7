/**
 * The Interactive Brokers adapter's client, bundled on its own into dist/sdk/ib.js (scripts/build.mjs) and
 * required on the adapter's first connect. All of the package is re-exported: it is CommonJS, so naming
 * fewer exports would not make the chunk smaller, and the chunk then offers everything the adapter's type
 * names.
 */
export * from '@stoqey/ib';
