/**
 * What the .vsix carries for the brokers: each SDK chunk's size (production build) and its cold load in a
 * fresh `node` (`node -e "require(chunk)"` against `node -e ""`, side by side), run from a copy outside the
 * repository as in the installed extension, where no node_modules can be found. For scale, the whole ccxt
 * package as it loaded from node_modules before the chunks. Also the .vsix size, when one is built.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { quantile } from './stats';

const ROOT = resolve(__dirname, '../..');
const CHUNKS = ['ccxt-binance', 'alpaca', 'ib'];
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

/** Wall time of a fresh `node -e script`, and what the script printed (its own timing). */
function spawnNode(script: string, cwd: string): { wallMs: number; inside: number } {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], HOME: cwd },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`node -e failed: ${r.stderr}`);
  return { wallMs, inside: Number(r.stdout || 'NaN') };
}

const timedRequire = (specifier: string): string =>
  `const t = process.hrtime.bigint(); require(${JSON.stringify(specifier)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;

export async function benchPackage(): Promise<void> {
  console.log('\n## Broker SDK chunks (production build; fresh node per sample, from a copy outside the repository)');
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--production'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`production build failed: ${build.stderr}`);
  const samples = Number(process.env['CHUNK_RUNS'] ?? 10);
  const copy = mkdtempSync(join(tmpdir(), 'sptrader-chunks-'));
  try {
    cpSync(join(ROOT, 'dist/sdk'), join(copy, 'sdk'), { recursive: true });
    const floor: number[] = [];
    for (let i = 0; i < samples; i++) floor.push(spawnNode('', copy).wallMs);
    const floorP50 = quantile(floor, 0.5);
    console.log(`floor: node -e ""                               wall p50 ${floorP50.toFixed(1)} ms`);
    const rows: [string, number, string, string][] = CHUNKS.map((chunk) => [
      `dist/sdk/${chunk}.js`,
      statSync(join(ROOT, 'dist/sdk', `${chunk}.js`)).size,
      join(copy, 'sdk', `${chunk}.js`),
      copy,
    ]);
    // The whole package, where it used to load from (the repository's node_modules): for scale only.
    rows.push(['ccxt from node_modules (before, not shipped)', Number.NaN, 'ccxt', ROOT]);
    for (const [label, bytes, specifier, cwd] of rows) {
      const wall: number[] = [];
      const inside: number[] = [];
      for (let i = 0; i < samples; i++) {
        const r = spawnNode(timedRequire(specifier), cwd);
        wall.push(r.wallMs);
        inside.push(r.inside);
      }
      const p50 = quantile(wall, 0.5);
      console.log(
        `${label.padEnd(46)} ${Number.isNaN(bytes) ? '' : kib(bytes).padStart(8)}  wall p50 ${p50.toFixed(1)} ms (+${(p50 - floorP50).toFixed(1)} over the floor)  require() p50 ${quantile(inside, 0.5).toFixed(1)} ms  p90 ${quantile(inside, 0.9).toFixed(1)} ms`,
      );
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const vsix = readdirSync(ROOT)
    .filter((f) => /^sptrader-execution-.*\.vsix$/.test(f))
    .map((f) => join(ROOT, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  console.log(
    vsix === undefined
      ? '.vsix: none built (npm run package)'
      : `.vsix: ${kib(statSync(vsix).size)} (${statSync(vsix).size} bytes), ${vsix.slice(ROOT.length + 1)} built ${statSync(vsix).mtime.toISOString()}`,
  );
  // Leave the development build in place for tests that follow.
  spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
}
