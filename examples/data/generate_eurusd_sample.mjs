/**
 * Writes eurusd_m1_sample.csv: 2,000 synthetic but plausible EUR_USD one-minute candles
 * (time, open, high, low, close, volume), deterministic (seeded), so the file can be remade
 * byte for byte: `node examples/data/generate_eurusd_sample.mjs`.
 * The path is a random walk of 10 sub-steps a minute (about 0.8 pip of volatility a minute),
 * with a slow drift that changes sign every few hours so trend-following examples have trends.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BARS = 2000;
const START = Date.UTC(2024, 2, 4, 0, 0, 0); // Monday 4 March 2024, 00:00 UTC
let seed = 20240304;
/** mulberry32: a small, well-mixed 32-bit generator. */
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function gaussian() {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
const p5 = (x) => x.toFixed(5);
const lines = ['time,open,high,low,close,volume'];
let price = 1.085;
for (let i = 0; i < BARS; i++) {
  const drift = 0.000006 * Math.sin((2 * Math.PI * i) / 480);
  const open = price;
  let high = open;
  let low = open;
  for (let s = 0; s < 10; s++) {
    price += drift / 10 + 0.000025 * gaussian();
    high = Math.max(high, price);
    low = Math.min(low, price);
  }
  const close = price;
  const volume = 40 + Math.floor(random() * 400);
  const time = new Date(START + i * 60_000).toISOString().replace('.000Z', 'Z');
  lines.push(
    `${time},${p5(open)},${p5(Math.max(high, open, close))},${p5(Math.min(low, open, close))},${p5(close)},${volume}`,
  );
  price = Number(p5(close));
}
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'eurusd_m1_sample.csv'), `${lines.join('\n')}\n`);
