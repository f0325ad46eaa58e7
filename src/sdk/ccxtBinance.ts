/**
 * The Binance adapter's client, bundled on its own into dist/sdk/ccxt-binance.js (scripts/build.mjs) and
 * required on the adapter's first connect. `binance` is all the adapter takes from ccxt: it reads ccxt's
 * errors by their `name`, never by class.
 *
 * The package's main file builds every exchange (megabytes), so the build resolves `ccxt` here to ccxt's
 * binance class file alone (`ccxtBinanceOnly` in scripts/build.mjs); the import below names the same class
 * through the package's public types.
 */
export { binance } from 'ccxt';
