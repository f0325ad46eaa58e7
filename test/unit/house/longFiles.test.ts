/**
 * No source file runs past 450 lines without saying why at its top (CONTRIBUTING.md, "Habits"): the product's
 * TypeScript (src/), the Python harness shipped with it (python/) and the scripts (scripts/). A reason is a sentence
 * in the file's opening comment that names the 450 lines ("Past 450 lines on purpose: …", or "runs past 450 lines
 * because …"); a long file without one is a room that grew unnoticed.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const LIMIT = 450;
/** Where the reason must stand: the opening comment, not somewhere down the file. */
const HEAD_LINES = 60;

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === '__pycache__' ? [] : files(path, ext);
    return ext.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The long file's complaint, or undefined when it is short or says why it is long. */
export function longWithoutReason(text: string): string | undefined {
  const lines = text.split('\n');
  const count = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  if (count <= LIMIT) return undefined;
  const head = lines.slice(0, HEAD_LINES).join('\n');
  return /\b450 lines\b/.test(head) ? undefined : `${count} lines, and no reason at its top`;
}

describe('the house: long files', () => {
  it('finds a long file without a reason, and takes one with a reason or under the limit (the check can fail)', () => {
    const body = Array.from({ length: LIMIT + 10 }, (_, i) => `const x${i} = ${i};`).join('\n');
    assert.equal(longWithoutReason(`${body}\n`), `${LIMIT + 10} lines, and no reason at its top`);
    assert.equal(longWithoutReason(`/**\n * Past 450 lines on purpose: one state.\n */\n${body}\n`), undefined);
    assert.equal(
      longWithoutReason(`${body}\n// Past 450 lines on purpose: said too late.\n`),
      `${LIMIT + 11} lines, and no reason at its top`,
    );
    assert.equal(longWithoutReason(Array.from({ length: LIMIT }, () => 'x').join('\n') + '\n'), undefined);
  });

  it('every file of src/, python/ and scripts/ over 450 lines says why at its top', () => {
    const all = [
      ...files(join(ROOT, 'src'), /\.ts$/),
      ...files(join(ROOT, 'python'), /\.py$/),
      ...files(join(ROOT, 'scripts'), /\.(m?js|ts|sh)$/),
    ];
    assert.ok(all.length > 100, `expected the product's sources, found ${all.length} files`);
    const long = all
      .map((path) => [relative(ROOT, path), longWithoutReason(readFileSync(path, 'utf8'))] as const)
      .filter(([, complaint]) => complaint !== undefined)
      .map(([path, complaint]) => `${path}: ${complaint as string}`);
    assert.deepEqual(long, [], `split these files, or say at the top why each is one room:\n${long.join('\n')}`);
  });
});
