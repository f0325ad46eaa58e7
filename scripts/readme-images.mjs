#!/usr/bin/env node
// README's pictures from the e2e screenshots: `node scripts/readme-images.mjs DIR...` reads the named
// screenshots (PNG, 1440×900, from test-results/ after `npm run e2e`) and writes media/readme/*.jpg at
// 1100 px wide, and media/icon.png (128×128) from media/sptrader.svg, with the e2e's Chromium
// (scripts/e2e/setup.sh). The pictures ship in the .vsix, so the extension's page in VS Code shows them.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lib from './e2e/lib.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(repo, 'media/readme');
/** README picture ← the e2e screenshot it is made from. */
const PICTURES = {
  'test-order.jpg': 'panel.png',
  'account-and-position.jpg': 'desk-position-pnl.png',
  'trading-menu.jpg': 'desk-trading-menu.png',
  'paper-faults.jpg': 'desk-faults-menu.png',
  'compare-venues.jpg': 'compare-panel.png',
  'replay.jpg': 'replay-panel.png',
  'parent-orders.jpg': 'compare-parent-tree.png',
  'debug-order.jpg': 'debug-paused.png',
};

const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length === 0) dirs.push(join(repo, 'test-results'));
const find = (name) => dirs.map((d) => join(d, name)).find((p) => existsSync(p));

mkdirSync(OUT, { recursive: true });
const { browser, close } = await lib.launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 688 } });
  for (const [out, source] of Object.entries(PICTURES)) {
    const file = find(source);
    if (!file) {
      console.log(`skipped ${out}: no ${source} in ${dirs.join(', ')}`);
      continue;
    }
    const data = readFileSync(file).toString('base64');
    await page.setContent(
      `<body style="margin:0"><img style="width:1100px;display:block" src="data:image/png;base64,${data}"></body>`,
    );
    await page.locator('img').screenshot({ path: join(OUT, out), type: 'jpeg', quality: 78 });
    console.log(`media/readme/${out} ← ${file}`);
  }
  const svg = readFileSync(join(repo, 'media/sptrader.svg'), 'utf8');
  const icon = await browser.newPage({ viewport: { width: 128, height: 128 } });
  await icon.setContent(
    `<body style="margin:0;background:#1e1e1e;display:flex;align-items:center;justify-content:center;width:128px;height:128px">` +
      `<div style="width:96px;height:96px;color:#4fc1ff">${svg.replace('<svg', '<svg width="96" height="96"')}</div></body>`,
  );
  await icon.screenshot({ path: join(repo, 'media/icon.png'), omitBackground: false });
  console.log('media/icon.png ← media/sptrader.svg');
} finally {
  await close();
}
