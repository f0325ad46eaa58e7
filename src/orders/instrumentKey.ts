/**
 * One name per instrument, whatever a component or a venue spells: the key risk, positions, the audit
 * log and every venue compare by. It sits with the order model so that the engine and the venues share it
 * without the engine reaching into a venue.
 */

const keys = new Map<string, string>();

/** EURUSD, EUR_USD, EUR/USD and eurusd name one instrument. Remembered: every order and fill asks several times. */
export function instrumentKey(symbol: string): string {
  let key = keys.get(symbol);
  if (key === undefined) {
    key = symbol.toUpperCase().replace(/[_/\-.:]/g, '');
    if (keys.size >= 10_000) keys.clear();
    keys.set(symbol, key);
  }
  return key;
}
