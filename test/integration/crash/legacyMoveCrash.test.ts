/**
 * The editor moving an older editor's paper account (snapshot and journal, `<globalStorage>/paper/`) into its state
 * folder, SIGKILLed after each of the two renames (`legacy-account-part-moved`): after the first, the journal is in
 * the state folder and its snapshot still in the old one. The next start must finish the move with both files as
 * they were (the journal is not set aside as a stranger's, the snapshot not left behind), so that the account's
 * positions and fills still agree with the audit log: nothing lost, nothing counted twice (crashKit's check).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { systemClock } from '../../../src/common/clock';
import { legacyEditorPaperDir } from '../../../src/common/editorStateFolder';
import { editorStateDir } from '../../../src/common/statePaths';
import { openTradingSession, parseRiskSettings } from '../../../src/usecases/session';
import { check, cli } from './crashKit';

const MODULE = resolve(__dirname, '../../../src/common/editorStateFolder.js');
const SNAPSHOT = 'paper-account.json';
const JOURNAL = 'paper-account.json.journal';

/** Two paper orders traded the way editors before the one layout did: the account outside the state folder. */
async function tradeInOldLayout(root: string): Promise<void> {
  const paper = new PaperBroker({ clock: systemClock, stateFile: join(legacyEditorPaperDir(root), SNAPSHOT) });
  const session = await openTradingSession({
    stateDir: editorStateDir(root),
    clock: systemClock,
    brokers: { paper },
    settings: parseRiskSettings({}, 'defaults'),
  });
  try {
    await session.engine.connect('paper');
    for (const id of ['legacy-1', 'legacy-2']) {
      const placed = await session.engine.submitOrder(
        {
          symbol: 'EURUSD',
          side: 'buy',
          quantity: 1000,
          order_type: { type: 'market' },
          time_in_force: { type: 'GTC' },
          metadata: {},
          client_order_id: id,
        },
        'paper',
      );
      assert.equal(placed.order.state, 'FILLED');
    }
  } finally {
    await session.close();
    await paper.disconnect();
  }
}

/** The editor's start in its own process: `openEditorStateFolder(root)`. */
function start(
  root: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: string | null; err: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['-e', `require(${JSON.stringify(MODULE)}).openEditorStateFolder(process.argv[1])`, root],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code, signal) => done({ code, signal, err }));
  });
}

describe('crash suite: the editor killed while it moves an older paper account into its state folder', function () {
  this.timeout(120_000);
  const roots: string[] = [];
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  for (const [nth, left] of [
    [1, 'the journal moved, its snapshot not yet'],
    [2, 'both moved, the folders not yet synced'],
  ] as const) {
    it(`killed after rename ${nth} (${left}): the next start finishes the move, the account agrees with the log`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'sptrader-legacy-move-'));
      roots.push(root);
      await tradeInOldLayout(root);
      const legacy = legacyEditorPaperDir(root);
      const stateDir = editorStateDir(root);
      assert.deepEqual(readdirSync(legacy).sort(), [SNAPSHOT, JOURNAL], 'the old account has a journal beside it');
      const before = { snapshot: readFileSync(join(legacy, SNAPSHOT)), journal: readFileSync(join(legacy, JOURNAL)) };

      const killed = await start(root, { SPTRADER_CRASH_AT: `legacy-account-part-moved:${nth}` });
      assert.equal(killed.signal, 'SIGKILL', killed.err);
      assert.equal(existsSync(join(stateDir, JOURNAL)), true, 'the journal moves first');
      assert.equal(existsSync(join(legacy, SNAPSHOT)), nth === 1, `after rename ${nth}: ${left}`);

      const next = await start(root);
      assert.equal(next.code, 0, next.err);
      assert.deepEqual(readdirSync(legacy), [], 'nothing is left behind');
      assert.deepEqual(
        readdirSync(stateDir).filter((n) => n.includes('set-aside')),
        [],
        'nothing of its own account is set aside',
      );
      assert.ok(readFileSync(join(stateDir, SNAPSHOT)).equals(before.snapshot), 'the snapshot as it was');
      assert.ok(readFileSync(join(stateDir, JOURNAL)).equals(before.journal), 'the journal as it was');

      const positions = await cli(['positions', '--state-dir', stateDir, '--json']);
      assert.equal(positions.code, 0, positions.stderr);
      assert.deepEqual(
        (JSON.parse(positions.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [
          p.symbol,
          p.quantity,
        ]),
        [['EUR_USD', 2000]],
      );
      assert.doesNotMatch(positions.stderr, /damaged|missing|deleted/i, positions.stderr);
      await check(stateDir);
    });
  }
});
