/**
 * A replay and an execute started on the same new folder at once. The execute looked for the replay's marker
 * before it took the folder's lock, and the replay marked an empty folder without the lock: an execute stopped
 * between its look and its lock let the replay mark the folder and replay into it, then went on and traded
 * there (real fills beside simulated ones in a folder marked "never trading state"). The two now look and mark
 * under the lock, so one of them is refused, whichever gets there first. Each case stops one real process at
 * the point where the other used to slip in (SPTRADER_PAUSE_AT), runs the other to its end, then lets the first
 * go on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { check, CLI, cli, MARKET, type Run } from './crashKit';

const DATA = resolve(__dirname, '../../../../examples/data/eurusd_m1_sample.csv');
/** The stopped children, killed after a failed case so that none is left waiting. */
const stopped = new Set<ReturnType<typeof spawn>>();

/** Starts the CLI stopped at `point`; resolves once it is stopped there, with a way to let it go on. */
async function pausedAt(args: string[], point: string, resumeFile: string): Promise<{ resume: () => Promise<Run> }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, SPTRADER_PAUSE_AT: point, SPTRADER_PAUSE_FILE: resumeFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stopped.add(child);
  child.on('close', () => stopped.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((settle) =>
    child.on('close', (code, signal) => settle({ code, signal, stdout, stderr })),
  );
  let ended: Run | undefined;
  void done.then((r) => (ended = r));
  // The child says it is stopped by writing `<resumeFile>.paused`; one that ends first never reached the point.
  while (!existsSync(`${resumeFile}.paused`)) {
    if (ended) assert.fail(`it ended (exit ${ended.code}) before it reached ${point}:\n${ended.stderr}${ended.stdout}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    resume: () => {
      writeFileSync(resumeFile, '');
      return done;
    },
  };
}

const sentOrders = (stateDir: string): number =>
  readdirSync(join(stateDir, 'audit'))
    .filter((f) => f.endsWith('.jsonl'))
    .reduce(
      (n, f) => n + readFileSync(join(stateDir, 'audit', f), 'utf8').split('"type":"OrderSubmitted"').length - 1,
      0,
    );

describe('crash suite: a replay and an execute racing on one new folder', function () {
  this.timeout(300_000);
  let root: string;
  let market: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-replay-race-'));
    market = join(root, 'market.py');
    writeFileSync(market, MARKET);
  });
  after(() => {
    for (const child of stopped) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('the execute stopped right after its look for the marker: the replay is refused, the execute trades, no marker is left', async () => {
    const stateDir = join(root, 'execute-first');
    const execute = await pausedAt(
      ['execute', market, '--state-dir', stateDir],
      'trading-folder-checked',
      join(root, 'go-execute'),
    );
    const replay = await cli(['replay', market, '--data', DATA, '--state-dir', stateDir]);
    assert.notEqual(replay.code, 0, `the replay is refused:\n${replay.stderr}${replay.stdout}`);
    assert.match(replay.stderr, new RegExp(`${stateDir}.*(in use by another SPtrader process|not empty)`));
    assert.equal(existsSync(join(stateDir, 'replay.json')), false, 'the replay did not mark the folder');
    const traded = await execute.resume();
    assert.equal(traded.code, 0, `${traded.stderr}${traded.stdout}`);
    assert.equal(existsSync(join(stateDir, 'replay.json')), false, 'a trading folder carries no replay marker');
    assert.equal(sentOrders(stateDir), 1, 'one order, the execute’s, and no simulated one');
    await check(stateDir);
  });

  it('the replay stopped right after it marked the folder: the execute is refused and sends nothing, the replay runs', async () => {
    const stateDir = join(root, 'replay-first');
    const replay = await pausedAt(
      ['replay', market, '--data', DATA, '--state-dir', stateDir],
      'replay-folder-marked',
      join(root, 'go-replay'),
    );
    const execute = await cli(['execute', market, '--state-dir', stateDir]);
    // 5: the folder is busy (the replay holds it); 6: it holds a replay.
    assert.ok(execute.code === 5 || execute.code === 6, `the execute is refused:\n${execute.stderr}${execute.stdout}`);
    assert.match(execute.stderr, new RegExp(`${stateDir}.*(in use by another SPtrader process|holds a replay)`));
    assert.equal(existsSync(join(stateDir, 'audit')), false, 'the execute wrote no audit log');
    const replayed = await replay.resume();
    assert.equal(replayed.code, 0, `${replayed.stderr}${replayed.stdout}`);
    for (const name of ['trading-state.json', 'working-orders.json', 'paper-account.json'])
      assert.equal(existsSync(join(stateDir, name)), false, `no ${name} in the replay's folder`);
    // And afterwards the folder is a replay's: trading is refused over the marker, as before.
    const after = await cli(['execute', market, '--state-dir', stateDir]);
    assert.equal(after.code, 6);
    assert.match(after.stderr, /holds a replay \(replay\.json\)/);
  });
});
