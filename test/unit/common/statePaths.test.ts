/**
 * One layout for a state folder, the CLI's and the editor's: the editor's paper accounts, kept by older
 * versions in `<globalStorage>/paper/`, move into its state folder once, with their journals, and nothing
 * is lost on the way (a copy already there is set aside, a move cut short finishes, a busy folder waits).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { systemClock } from '../../../src/common/clock';
import {
  adoptLegacyPaperAccounts,
  legacyEditorPaperDir,
  openEditorStateFolder,
} from '../../../src/common/editorStateFolder';
import { editorStateDir, statePaths } from '../../../src/common/statePaths';
import { recoverStateDir } from '../../../src/usecases/recover';
import { openTradingSession, parseRiskSettings } from '../../../src/usecases/session';

const LOCK_MODULE = resolve(__dirname, '../../../src/common/stateLock.js');

describe('state folder paths', function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'sptrader-paths-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Trades one paper order the way editors before the one layout did: the account outside the state folder. */
  async function tradeInOldLayout(): Promise<void> {
    const stateDir = editorStateDir(root);
    const paper = new PaperBroker({
      clock: systemClock,
      stateFile: join(legacyEditorPaperDir(root), 'paper-account.json'),
    });
    const session = await openTradingSession({
      stateDir,
      clock: systemClock,
      brokers: { paper },
      settings: parseRiskSettings({}, 'defaults'),
    });
    try {
      await session.engine.connect('paper');
      const placed = await session.engine.submitOrder(
        {
          symbol: 'EURUSD',
          side: 'buy',
          quantity: 1000,
          order_type: { type: 'market' },
          time_in_force: { type: 'GTC' },
          metadata: {},
          client_order_id: 'layout-1',
        },
        'paper',
      );
      assert.equal(placed.order.state, 'FILLED');
    } finally {
      await session.close();
      await paper.disconnect();
    }
  }

  it('names the same files for the CLI and the editor', () => {
    const cli = statePaths('/tmp/s');
    assert.deepEqual(
      [cli.audit, cli.tradingState, cli.workingOrders, cli.paperAccount, cli.riskLimits, cli.lock, cli.replayMarker],
      [
        '/tmp/s/audit',
        '/tmp/s/trading-state.json',
        '/tmp/s/working-orders.json',
        '/tmp/s/paper-account.json',
        '/tmp/s/risk-limits.json',
        '/tmp/s/lock',
        '/tmp/s/replay.json',
      ],
    );
    assert.equal(editorStateDir('/g'), '/g/engine');
  });

  it("moves an older editor's paper account into its state folder, where recover finds it agreeing with the log", async () => {
    await tradeInOldLayout();
    const stateDir = editorStateDir(root);
    const before = await recoverStateDir({ stateDir, clock: systemClock, dryRun: true });
    assert.ok(
      before.problems.some((p) => p.includes('paper-account.json')),
      `before the move, recover looks for the account in the state folder and misses it: ${before.problems.join('; ')}`,
    );
    const account = readFileSync(join(legacyEditorPaperDir(root), 'paper-account.json'), 'utf8');

    const folder = openEditorStateFolder(root);
    assert.equal(folder.stateDir, stateDir);
    assert.equal(folder.paperAccount, statePaths(stateDir).paperAccount);
    assert.ok(folder.moved.includes(folder.paperAccount));
    assert.deepEqual(folder.setAside, []);
    assert.equal(readFileSync(folder.paperAccount, 'utf8'), account);
    assert.deepEqual(readdirSync(legacyEditorPaperDir(root)), []);
    assert.equal(existsSync(statePaths(stateDir).lock), false, 'the lock is given back');

    const after = await recoverStateDir({ stateDir, clock: systemClock, dryRun: true });
    assert.deepEqual(after.problems, []);
    const paper = new PaperBroker({ clock: systemClock, stateFile: folder.paperAccount });
    await paper.connect();
    assert.equal((await paper.getAccountInfo()).open_positions.length, 1, 'the position came along');
    await paper.disconnect();
    assert.deepEqual(openEditorStateFolder(root).moved, [], 'a second start has nothing to move');
  });

  it('moves each paper profile account with its journal, journal first, and finishes a move cut short', () => {
    const legacy = legacyEditorPaperDir(root);
    const stateDir = editorStateDir(root);
    mkdirSync(legacy, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(legacy, 'paper-account.json'), 'snapshot');
    writeFileSync(join(legacy, 'paper-account.json.journal'), 'journal');
    writeFileSync(join(legacy, 'paper-account-demo.json'), 'demo snapshot');
    writeFileSync(join(legacy, 'notes.txt'), 'not an account');
    // A crash after the demo journal moved and before its snapshot did.
    writeFileSync(join(stateDir, 'paper-account-demo.json.journal'), 'demo journal');

    const { moved, setAside } = adoptLegacyPaperAccounts(legacy, stateDir);
    assert.deepEqual(setAside, [], 'the half-moved journal belongs to the snapshot still in the old folder');
    assert.deepEqual([...moved].sort(), [
      join(stateDir, 'paper-account-demo.json'),
      join(stateDir, 'paper-account.json'),
      join(stateDir, 'paper-account.json.journal'),
    ]);
    assert.equal(readFileSync(join(stateDir, 'paper-account.json.journal'), 'utf8'), 'journal');
    assert.equal(readFileSync(join(stateDir, 'paper-account-demo.json.journal'), 'utf8'), 'demo journal');
    assert.deepEqual(readdirSync(legacy), ['notes.txt']);
  });

  it('sets aside, never deletes, an account recover had rebuilt in the state folder', () => {
    const legacy = legacyEditorPaperDir(root);
    const stateDir = editorStateDir(root);
    mkdirSync(legacy, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(legacy, 'paper-account.json'), 'used by the editor');
    writeFileSync(join(stateDir, 'paper-account.json'), 'rebuilt by recover');
    writeFileSync(join(stateDir, 'paper-account.json.journal'), 'its journal');

    const { moved, setAside } = adoptLegacyPaperAccounts(legacy, stateDir, Date.UTC(2026, 0, 2));
    assert.deepEqual(moved, [join(stateDir, 'paper-account.json')]);
    assert.deepEqual(setAside, [
      join(stateDir, 'paper-account.json.set-aside-2026-01-02T00-00-00-000Z'),
      join(stateDir, 'paper-account.json.journal.set-aside-2026-01-02T00-00-00-000Z'),
    ]);
    assert.equal(readFileSync(join(stateDir, 'paper-account.json'), 'utf8'), 'used by the editor');
    assert.equal(existsSync(join(stateDir, 'paper-account.json.journal')), false, 'no stranger journal beside it');
    assert.equal(readFileSync(setAside[0] as string, 'utf8'), 'rebuilt by recover');
  });

  describe('while another process holds the state folder', () => {
    let holder: ChildProcess | undefined;
    afterEach(async () => {
      const child = holder;
      holder = undefined;
      if (child && child.exitCode === null && child.signalCode === null)
        await new Promise<void>((ok) => {
          child.on('exit', () => ok());
          child.kill('SIGKILL');
        });
    });

    it('moves nothing and reads the old account where it is', async () => {
      const legacy = legacyEditorPaperDir(root);
      const stateDir = editorStateDir(root);
      mkdirSync(legacy, { recursive: true });
      writeFileSync(join(legacy, 'paper-account.json'), 'old');
      const child = spawn(
        process.execPath,
        [
          '-e',
          `require(${JSON.stringify(LOCK_MODULE)}).acquireStateDirLock(${JSON.stringify(stateDir)}, 'another window'); console.log('held'); setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      holder = child;
      await new Promise<void>((ok, fail) => {
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('held') && ok());
        child.on('exit', (code) => fail(new Error(`the holder exited with ${code}`)));
      });
      const folder = openEditorStateFolder(root);
      assert.equal(folder.paperAccount, join(legacy, 'paper-account.json'));
      assert.deepEqual(folder.moved, []);
      assert.ok(existsSync(join(legacy, 'paper-account.json')));
      // Once that window is gone, the next start moves it.
      await new Promise<void>((ok) => {
        child.on('exit', () => ok());
        child.kill('SIGKILL');
      });
      const later = openEditorStateFolder(root);
      assert.equal(later.paperAccount, statePaths(stateDir).paperAccount);
      assert.equal(readFileSync(later.paperAccount, 'utf8'), 'old');
    });
  });

  it('leaves a fresh editor (no old folder) untouched', () => {
    const folder = openEditorStateFolder(root);
    assert.deepEqual(folder, {
      stateDir: editorStateDir(root),
      paperAccount: statePaths(editorStateDir(root)).paperAccount,
      moved: [],
      setAside: [],
    });
    assert.equal(existsSync(editorStateDir(root)), false);
  });
});
