/**
 * What the CLI's commands share around the engine's session over --state-dir: the risk settings, the paper
 * venue, and what the session found on open (a recovered log, damaged state) said on stderr.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { systemClock } from '../common/clock';
import { RECOVER_HINT, StateFileError, stateFileErrorOf } from '../common/stateErrors';
import { PaperBroker } from '../brokers/paper/paperBroker';
import { interruptedStopText, loadRiskSettings, type RiskSettings, type TradingSession } from '../usecases/session';
import { statePaths } from '../common/statePaths';
import { withStateDir } from './stateDir';
import { printable } from '../usecases/formatOutcome';

/** Risk settings: --limits FILE, else <state-dir>/risk-limits.json when present, else the defaults. */
export function riskSettings(stateDir: string, limitsFile: string | undefined): RiskSettings {
  const file = limitsFile === undefined ? statePaths(stateDir).riskLimits : resolve(limitsFile);
  try {
    if (statSync(file).isDirectory())
      throw new StateFileError(
        file,
        'a directory is in the place of the risk limits file',
        'Put a JSON file there, or remove it',
      );
    accessSync(file, constants.R_OK);
  } catch (e) {
    if (e instanceof StateFileError) throw e;
    // Missing: the defaults (or, for --limits, loadRiskSettings says so); anything else is a machine fault on the file.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw stateFileErrorOf(file, 'read the risk limits', e);
  }
  return loadRiskSettings(file, limitsFile !== undefined);
}

/** What the session found on open, said on stderr; `parents: false` leaves out the parents left working (algo --resume carries them on and says so). */
export function reportRecovery(trading: TradingSession, { parents: sayParents = true } = {}): void {
  const r = trading.recovery;
  if (r.tornTailRemoved)
    process.stderr.write(
      `sptrader: ${printable(r.tornTailFile ?? trading.audit.dir)}: the audit log's last line was cut short by a crash or a full disk (${r.tornTailBytes} bytes) and was removed\n`,
    );
  if (r.anchorMissing)
    process.stderr.write(
      `sptrader: ${printable(join(trading.audit.dir, 'anchor.json'))} was missing (deleted, or a log from before anchors); written anew at seq ${r.lastSeq}: a cut before now cannot be checked against it\n`,
    );
  const stop = trading.interruptedStop;
  if (stop !== undefined)
    process.stderr.write(
      `sptrader: ${printable(interruptedStopText(stop))}; \`sptrader halt${stop.flatten ? ' --flatten --yes' : ''}\` finishes it (it acts on what is left at the venue: nothing is cancelled or closed twice)\n`,
    );
  const left = sayParents ? trading.parentsLeftWorking : [];
  const parents = left.filter((p) => p.halted === undefined && p.cancelled === undefined);
  const cancelling = left.filter((p) => p.halted === undefined && p.cancelled !== undefined);
  const halted = left.filter((p) => p.halted !== undefined);
  if (halted.length > 0)
    process.stderr.write(
      `sptrader: ${halted.length} parent order${halted.length === 1 ? ' was' : 's were'} ended by a halt whose run stopped before it recorded ${halted.length === 1 ? 'that' : 'those'} end${halted.length === 1 ? '' : 's'}: ${halted.map((p) => `${describeLeftParent(p)} (halted: ${printable(p.halted ?? '')})`).join('; ')}; nothing more is sent for ${halted.length === 1 ? 'it' : 'them'}: \`sptrader halt\` or \`sptrader algo --resume\` records the end\n`,
    );
  if (cancelling.length > 0)
    process.stderr.write(
      `sptrader: ${cancelling.length} parent order${cancelling.length === 1 ? ' was' : 's were'} being cancelled by a run that stopped before ${cancelling.length === 1 ? 'its' : 'their'} children's cancels were done: ${cancelling.map((p) => `${describeLeftParent(p)} (cancelled: ${printable(p.cancelled ?? '')})`).join('; ')}; nothing more is sent for ${cancelling.length === 1 ? 'it' : 'them'}: \`sptrader algo --resume --state-dir ${printable(dirname(trading.audit.dir))}\` finishes the cancel (what of ${cancelling.length === 1 ? 'its' : 'their'} children still works at the venue is cancelled), \`sptrader halt\` too\n`,
    );
  if (parents.length > 0)
    process.stderr.write(
      `sptrader: ${parents.length} parent order${parents.length === 1 ? ' was' : 's were'} left working by a run that stopped: ${parents.map(describeLeftParent).join('; ')}; ${parents.length === 1 ? 'its' : 'their'} children at the venue are not watched meanwhile (no next slice or clip, no one-cancels-other, no trailing): \`sptrader algo --resume --state-dir ${printable(dirname(trading.audit.dir))}\` carries ${parents.length === 1 ? 'it' : 'them'} on, \`sptrader halt\` ends ${parents.length === 1 ? 'it' : 'them'}\n`,
    );
  if (!r.verified)
    process.stderr.write(
      printable(
        `sptrader: WARNING: the audit log at ${trading.audit.dir} does not verify (${r.problemCount} problems${
          r.problems[0] ? `; first: ${r.problems[0].file}:${r.problems[0].line}: ${r.problems[0].problem}` : ''
        }); run \`sptrader audit verify\`\n`,
      ),
    );
}

/**
 * Whether `resume` is refused, and why (said): an emergency stop cut short (killed mid-halt) may have left orders
 * working and, with --flatten, positions open; trading again over it would take the stop for done. The halt finishes
 * it (nothing is cancelled or closed twice), then resume.
 */
export function refusesResume(trading: TradingSession): boolean {
  const stop = trading.interruptedStop;
  if (stop === undefined) return false;
  process.stderr.write(
    `sptrader resume: refused: ${printable(interruptedStopText(stop))}; run \`sptrader halt${stop.flatten ? ' --flatten --yes' : ''} --state-dir ${printable(dirname(trading.audit.dir))}\` to finish it first, then resume\n`,
  );
  return true;
}

/** State files the engine found damaged, missing or older than the audit log: shown (with the remedy), and the command's exit is 6. */
export function reportDamage(trading: TradingSession): boolean {
  const damage = trading.engine.damage;
  if (damage.length === 0) return false;
  // A file's name (the folder's) and a problem (a file's bytes quoted) are anyone's text: never a terminal escape.
  for (const d of damage) process.stderr.write(`sptrader: ${printable(`${d.file}: ${d.problem}`)}\n`);
  process.stderr.write(`sptrader: ${printable(withStateDir(damage[0]?.remedy ?? RECOVER_HINT))}\n`);
  return true;
}

export function openPaperBroker(stateDir: string): PaperBroker {
  return new PaperBroker({ clock: systemClock, stateFile: statePaths(stateDir).paperAccount });
}

/** "pa-… TWAP BUY 3,000 EUR_USD at paper": a parent the log left working, from its ParentStarted. */
function describeLeftParent(p: TradingSession['parentsLeftWorking'][number]): string {
  const s = p.spec;
  const word = (v: unknown): string => (typeof v === 'string' ? v.toUpperCase() : '?');
  const quantity = typeof s['quantity'] === 'number' ? s['quantity'].toLocaleString('en-US') : '?';
  return printable(
    `${p.parentId} ${word(s['algo'])} ${word(s['side'])} ${quantity} ${String(s['symbol'])} at ${p.venue}`,
  );
}
