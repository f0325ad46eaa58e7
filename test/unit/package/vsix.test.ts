/**
 * The installed extension carries every broker SDK it loads (issue 12): each venue's client is a chunk
 * in dist/sdk/ that the adapters require on first connect, activation loads none of them, and the CLI
 * trades at each venue from a copy of the built files outside the repository, where no node_modules
 * can be found. The packaged .vsix itself (production build, vsce's file selection, unzipped) gets the
 * same runs in test/e2e/cliFromVsix.mjs, after scripts/e2e/run-all.sh has packaged it: packaging
 * rewrites dist/ and takes tens of seconds, which this suite does not pay.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  assertVenueRun,
  chunkFigures,
  resolvableSdkPackages,
  runAtVenue,
  scratch,
  SDK_CHUNKS,
  SDK_PACKAGES,
  VENUES,
} from './fromPackage';

const ROOT = resolve(__dirname, '../../../..');
const DIST = join(ROOT, 'dist');

/** Every string literal required by a bundle (`require("x")`, minified or not). */
function requiredBy(bundle: string): string[] {
  const text = readFileSync(join(DIST, bundle), 'utf8');
  return [...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
}

describe('the package carries its broker SDKs (issue 12)', function () {
  this.timeout(180_000);

  it('activation requires no SDK chunk; the core and the CLI require each one by its path beside them, and no SDK package', () => {
    const shell = requiredBy('extension.js');
    assert.deepEqual(
      shell.filter((r) => r.includes('sdk/') || SDK_PACKAGES.some((p) => r === p || r.startsWith(`${p}/`))),
      [],
      'dist/extension.js must stay free of SDKs',
    );
    for (const bundle of ['core.js', 'cli.js']) {
      const required = requiredBy(bundle);
      for (const chunk of SDK_CHUNKS)
        assert.ok(required.includes(`./sdk/${chunk}.js`), `${bundle} requires ./sdk/${chunk}.js`);
      const bare = required.filter((r) => SDK_PACKAGES.some((p) => r === p || r.startsWith(`${p}/`)));
      assert.deepEqual(bare, [], `${bundle} requires no SDK package by name (the .vsix has no node_modules)`);
    }
  });

  describe('a copy of the built files outside the repository', () => {
    let work: ReturnType<typeof scratch>;
    let extension: string;
    before(() => {
      work = scratch('sptrader-package-');
      extension = join(work.dir, 'extension');
      mkdirSync(join(extension, 'dist'), { recursive: true });
      cpSync(join(DIST, 'cli.js'), join(extension, 'dist', 'cli.js'));
      cpSync(join(DIST, 'sdk'), join(extension, 'dist', 'sdk'), {
        recursive: true,
        filter: (f) => !f.endsWith('.map'),
      });
      cpSync(join(ROOT, 'python'), join(extension, 'python'), {
        recursive: true,
        filter: (f) => !f.includes('__pycache__'),
      });
      cpSync(join(ROOT, 'examples', 'workspace'), join(extension, 'examples', 'workspace'), { recursive: true });
    });
    after(() => work.dispose());

    it('finds none of the SDK packages from there (the runs below cannot fall back on node_modules)', () => {
      assert.deepEqual(resolvableSdkPackages(extension, work.env), []);
    });

    it('loads each chunk alone in a plain node, offering what its adapter uses', () => {
      const figures = chunkFigures(extension, work.env);
      const needs: Record<string, string[]> = {
        'ccxt-binance': ['binance'],
        alpaca: ['Alpaca', 'ApiError', 'FetchError'],
        ib: ['IBApi', 'EventName'],
      };
      for (const f of figures) {
        for (const name of needs[f.chunk] ?? []) assert.ok(f.exports.includes(name), `${f.chunk}.js exports ${name}`);
        console.log(`      ${f.chunk}.js ${(f.bytes / 1024).toFixed(0)} KiB, loads in ${f.loadMs.toFixed(0)} ms`);
      }
    });

    it("ib.js reads no .env from the working directory into the process's environment (the package's dotenv call)", () => {
      const project = join(work.dir, 'project-with-env');
      mkdirSync(project);
      writeFileSync(join(project, '.env'), 'SPTRADER_PYTHON=/from/a/dot/env\n');
      const script = `const { IBApi } = require(${JSON.stringify(join(extension, 'dist/sdk/ib.js'))}); new IBApi({ host: '127.0.0.1', port: 9, clientId: 1 }); process.stdout.write(String(process.env.SPTRADER_PYTHON));`;
      const r = spawnSync(process.execPath, ['-e', script], { cwd: project, env: work.env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, String(work.env['SPTRADER_PYTHON']));
    });

    for (const venue of VENUES) {
      it(`test-order --broker ${venue}: the CLI loads the venue's chunk and reaches the fake`, async () => {
        assertVenueRun(await runAtVenue(extension, venue, work));
      });
    }
  });
});
