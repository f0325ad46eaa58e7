/**
 * `sptrader`: the same core as the editor, from a terminal.
 *
 * Every path ends with one of the exit codes (failures.ts) and a message naming the file or input at fault;
 * a stack trace is printed only for a bug (exit 70), and only with SPTRADER_DEBUG=1.
 * 0 done (the order reached the venue and the venue did not refuse it, or the component chose not to
 * trade), 1 component or validation error (audit verify: the chain is broken), 2 usage error, 3 denied
 * before sending, 4 broker error or outcome unknown, 5 the state directory is in use by another
 * SPtrader process, 6 a state file is unreadable, damaged or missing, 7 the venue rejected the order,
 * 70 internal error.
 *
 * One module per command (testOrder.ts, trading.ts, audit.ts, compare.ts, algo.ts, replay.ts); they share
 * failures.ts (the exit codes and the one failure report), session.ts and usage.ts.
 */
import { replayCommand } from './replay';
import { algoCommand } from './algo';
import { compareCommand } from './compare';
import { CloseFailure } from './closing';
import { EXIT, reportFailure, UsageError } from './failures';
import { USAGE } from './usage';
import { testOrderCommand } from './testOrder';
import { accountCommand, resetPaperCommand, tradingCommand } from './trading';
import { auditCommand, recoverCommand } from './audit';

const KNOWN_COMMANDS = new Set([
  'test-order',
  'execute',
  'reset-paper',
  'positions',
  'account',
  'orders',
  'audit',
  'replay',
  'compare',
  'algo',
  'halt',
  'resume',
  'status',
  'recover',
]);

/** `--help` or `-h` among a command's own flags (before a `--` that ends them): the usage, and nothing run. */
const asksForHelp = (args: readonly string[]): boolean => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && KNOWN_COMMANDS.has(command) && asksForHelp(rest)) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case 'test-order':
        return await testOrderCommand(rest, 'test');
      case 'execute':
        return await testOrderCommand(rest, 'execute');
      case 'reset-paper':
        return await resetPaperCommand(rest);
      case 'positions':
      case 'account':
      case 'orders':
        return await accountCommand(command, rest);
      case 'audit':
        return await auditCommand(rest);
      case 'replay':
        return await replayCommand(rest);
      case 'compare':
        return await compareCommand(rest);
      case 'algo':
        return await algoCommand(rest);
      case 'halt':
      case 'resume':
      case 'status':
        return await tradingCommand(command, rest);
      case 'recover':
        return await recoverCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    // Closing failed after the command printed its result: said on stderr, stdout keeps the one result.
    if (e instanceof CloseFailure) return reportFailure(e.failure, false);
    return reportFailure(e, rest.includes('--json'));
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  // A closed pipe (`sptrader … | head`) is not an error of the command.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportFailure(e, argv.includes('--json'));
    },
  );
}
