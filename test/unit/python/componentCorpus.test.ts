/**
 * A corpus of order components as traders write them (test/fixtures/components, red teams rt-comp8, rt-comp9 and rt-comp10), each through Test
 * Order on the paper venue with a real interpreter and engine under the default risk limits: what it did (filled,
 * resting, no order) or the one error it ended with, at which field and line of the component's file. The stateful
 * ones are replayed by the CLI in test/integration/cli/componentCorpus.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { DEFAULT_RISK_LIMITS } from '../../../src/execution/risk';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { runTestOrder } from '../../../src/usecases/testOrder';

const CORPUS = resolve(__dirname, '../../../../test/fixtures/components');

/** What test-order did: the order's status ('filled', 'submitted' for one resting), 'none', or the error's code. */
type Expected = [file: string, exit: number, outcome: string, path?: string, line?: number, needsNumpy?: boolean];
const TEST_ORDER: Expected[] = [
  ['alternating_sides.py', 0, 'filled'],
  ['asks_input.py', 1, 'COMPONENT_ERROR', undefined, 5],
  ['async_generator_generate_order.py', 1, 'NOT_SERIALIZABLE', undefined, 5],
  ['atr_stop.py', 0, 'submitted'],
  ['bool_quantity.py', 1, 'INVALID_ORDER', 'quantity', 6],
  ['bracket_algo_upper.py', 0, 'parent bracket'],
  ['bracket_as_order_type.py', 1, 'INVALID_ORDER', 'order_type', 7],
  ['bracket_exits_swapped.py', 1, 'INVALID_ORDER', 'stop_loss', 7],
  ['bracket_once.py', 1, 'COMPONENT_ERROR', undefined, 9],
  ['bracket_parent.py', 0, 'parent bracket'],
  ['bytes_symbol.py', 1, 'NOT_SERIALIZABLE', undefined, 6],
  ['circular_metadata.py', 1, 'ANSWER_TOO_DEEP', undefined, 7],
  ['class_attributes.py', 0, 'filled'],
  ['class_level_window.py', 0, 'none'],
  ['classmethod_generate_order.py', 0, 'filled'],
  ['closes_stdout.py', 0, 'filled'],
  ['config_beside_file.py', 0, 'filled'],
  ['copies_market_data.py', 1, 'COMPONENT_ERROR', undefined, 16],
  ['corpus_pkg/relative_import.py', 0, 'filled'],
  ['dataclass_component.py', 0, 'filled'],
  ['dataclass_order.py', 1, 'NOT_SERIALIZABLE', undefined, 16],
  ['decimal_limit.py', 0, 'submitted'],
  ['decimal_nan.py', 1, 'INVALID_ORDER', 'quantity', 6],
  ['decorated_no_wraps.py', 1, 'INVALID_ORDER', 'price', 16],
  ['defaultdict_order.py', 0, 'filled'],
  ['enum_side.py', 1, 'NOT_SERIALIZABLE', undefined, 14],
  ['exception_group.py', 1, 'COMPONENT_ERROR', undefined, 9],
  ['exception_str_raises.py', 1, 'COMPONENT_ERROR', undefined, 11],
  ['exit_builtin.py', 1, 'COMPONENT_EXIT', undefined, 6],
  ['expires_in_past.py', 1, 'INVALID_ORDER', 'expires_at', 6],
  ['extra_keys.py', 0, 'filled'],
  ['fd_write_stdout.py', 0, 'filled'],
  ['fill_or_kill_words.py', 0, 'filled'],
  ['flip_flop_state.py', 0, 'filled'],
  ['fork_returns_twice.py', 0, 'filled'],
  ['fraction_quantity.py', 0, 'filled'],
  ['fullwidth_slash_symbol.py', 1, 'INVALID_ORDER', 'symbol', 5],
  ['generator_expression.py', 1, 'NOT_SERIALIZABLE', undefined, 5],
  ['generator_generate_order.py', 1, 'NOT_SERIALIZABLE', undefined, 5],
  ['gtd_aware_datetime.py', 0, 'submitted'],
  ['gtd_from_record_time.py', 0, 'submitted'],
  ['gtd_naive_datetime.py', 0, 'submitted'],
  ['gtd_new_york_close.py', 0, 'submitted'],
  ['gtd_serde_epoch.py', 0, 'submitted'],
  ['helper_raises.py', 1, 'COMPONENT_ERROR', undefined, 6],
  ['huge_limit_price.py', 1, 'INVALID_ORDER', 'price', 5],
  ['huge_quantity.py', 3, 'QUANTITY_EXCEEDS_MAXIMUM'],
  ['inf_quantity.py', 1, 'INVALID_ORDER', 'quantity', 7],
  ['infinite_price.py', 1, 'INVALID_ORDER', 'price', 5],
  ['init_raises.py', 1, 'CONSTRUCTOR_ERROR', undefined, 6],
  ['keeps_market_data.py', 1, 'COMPONENT_ERROR', undefined, 12],
  ['keyboard_interrupt.py', 1, 'COMPONENT_INTERRUPTED', undefined, 5],
  ['kwargs_constructor.py', 0, 'filled'],
  ['kwonly_market_data.py', 0, 'filled'],
  ['late_import_missing.py', 1, 'COMPONENT_ERROR', undefined, 5],
  ['latin1_string.py', 1, 'SYNTAX_ERROR', undefined, 5],
  ['leaves_subprocess.py', 0, 'filled'],
  ['list_of_orders.py', 1, 'INVALID_ORDER', '', 5],
  ['logging_to_stdout.py', 0, 'filled'],
  ['logging_warnings.py', 0, 'filled'],
  ['long_symbol.py', 1, 'ANSWER_TOO_LARGE', undefined, 6],
  ['lower_case_symbol.py', 0, 'filled'],
  ['lowers_recursion_at_import.py', 0, 'filled'],
  ['lowers_recursion_limit.py', 0, 'filled'],
  ['lru_cache_entry.py', 1, 'COMPONENT_ERROR', undefined, 5],
  ['main_block.py', 0, 'filled'],
  ['metadata_default_above_max.py', 1, 'INVALID_PARAMETER', undefined, 6],
  ['metadata_min_above_max.py', 1, 'INVALID_PARAMETER', undefined, 7],
  ['metadata_min_not_number.py', 1, 'INVALID_PARAMETER', undefined, 6],
  ['metadata_set.py', 1, 'NOT_SERIALIZABLE', undefined, 7],
  ['missing_quantity.py', 1, 'INVALID_ORDER', 'quantity', 5],
  ['misspelt_limit_price.py', 1, 'INVALID_ORDER', 'limit_prce', 5],
  ['mixed_failures.py', 0, 'filled'],
  ['mutates_market_data.py', 0, 'submitted'],
  ['namedtuple_asdict.py', 0, 'filled'],
  ['negative_limit_price.py', 1, 'INVALID_ORDER', 'price', 6],
  ['negative_quantity.py', 1, 'INVALID_ORDER', 'quantity', 5],
  ['numpy_array_quantity.py', 1, 'INVALID_ORDER', 'quantity', 8, true],
  ['numpy_nan_quantity.py', 1, 'INVALID_ORDER', 'quantity', 9, true],
  ['numpy_scalars.py', 0, 'submitted'],
  ['numpy_zscore.py', 0, 'none', undefined, undefined, true],
  ['oco_algo.py', 1, 'INVALID_ORDER', 'algo', 6],
  ['order_dict_as_generate_order.py', 1, 'NO_COMPONENT_CLASS', undefined, 5],
  ['order_from_market_data.py', 0, 'submitted'],
  ['ordered_dict_order.py', 0, 'submitted'],
  ['os_exit.py', 1, 'COMPONENT_EXIT', undefined, 6],
  ['os_abort.py', 1, 'COMPONENT_EXIT', undefined, 6],
  ['os_exit_in_thread.py', 1, 'COMPONENT_EXIT', undefined, 7],
  ['own_client_order_id.py', 0, 'filled'],
  ['own_risk_limits.py', 3, 'NOTIONAL_EXCEEDS_MAX_PER_ORDER'],
  ['parameters_from_metadata.py', 0, 'submitted'],
  ['patches_json.py', 0, 'filled'],
  ['patches_json_encoder.py', 0, 'filled'],
  ['posix_exit.py', 1, 'COMPONENT_EXIT', undefined, 6],
  ['prints_protocol_line.py', 0, 'filled'],
  ['process_pool.py', 0, 'filled'],
  ['property_generate_order.py', 1, 'NO_COMPONENT_CLASS', undefined, 6],
  ['quit_builtin.py', 1, 'COMPONENT_EXIT', undefined, 6],
  ['reads_stdin.py', 0, 'none'],
  ['returns_empty_dict.py', 1, 'INVALID_ORDER', '', 6],
  ['returns_none.py', 0, 'none'],
  ['returns_tuple.py', 1, 'NOT_SERIALIZABLE', undefined, 6],
  ['runaway_recursion.py', 1, 'COMPONENT_ERROR', undefined, 5],
  ['self_referencing_order.py', 1, 'ANSWER_TOO_DEEP', undefined, 8],
  ['shared_logging_a.py', 0, 'filled'],
  ['shared_logging_b.py', 0, 'filled'],
  ['shims_signal_module.py', 0, 'filled'],
  ['shipped_blocked.py', 0, 'none'],
  ['shipped_fractional_size.py', 1, 'INVALID_ORDER', 'quantity', 6],
  ['shipped_ioc_far.py', 0, 'cancelled'],
  ['shipped_market_order.py', 0, 'filled'],
  ['sibling_import.py', 0, 'filled'],
  ['side_long.py', 1, 'INVALID_ORDER', 'side', 5],
  ['signal_absent.py', 1, 'COMPONENT_ERROR', undefined, 5],
  ['signal_fields.py', 0, 'filled'],
  ['sigterm_self.py', 1, 'COMPONENT_EXIT', undefined, 8],
  ['static_generate.py', 0, 'filled'],
  ['stop_limit.py', 0, 'submitted'],
  ['stop_wrong_side.py', 0, 'filled'],
  ['str_enums.py', 0, 'filled'],
  ['str_of_order.py', 1, 'COMPONENT_ERROR', undefined, 5],
  ['string_quantity.py', 1, 'INVALID_ORDER', 'price', 5],
  ['subclass_of_subclass.py', 0, 'filled'],
  ['surrogate_symbol.py', 1, 'INVALID_ORDER', 'symbol', 6],
  ['sys_stdout_none.py', 0, 'filled'],
  ['system_exit.py', 1, 'COMPONENT_EXIT', undefined, 6],
  ['thread_keeps_printing.py', 0, 'filled'],
  ['tif_day.py', 1, 'INVALID_ORDER', 'time_in_force', 5],
  ['time_in_force_typo.py', 1, 'INVALID_ORDER', 'time_in_forc', 6],
  ['tiny_quantity.py', 1, 'INVALID_ORDER', 'quantity', 5],
  ['to_json_text.py', 0, 'filled'],
  ['trailing_comma.py', 1, 'NOT_SERIALIZABLE', undefined, 6],
  ['trailing_stop_type.py', 1, 'INVALID_ORDER', 'order_type', 5],
  ['twap_duration_seconds.py', 1, 'INVALID_ORDER', 'duration_seconds', 5],
  ['two_leaf_classes.py', 1, 'AMBIGUOUS_COMPONENT_CLASS', undefined, 3],
  ['typed_parameters.py', 0, 'filled'],
  ['undeclared_order_type.py', 0, 'filled'],
  ['unicode_exception.py', 1, 'COMPONENT_ERROR', undefined, 8],
  ['upper_case_words.py', 0, 'filled'],
  ['usd_jpy.py', 0, 'filled'],
  ['userdict_order.py', 1, 'NOT_SERIALIZABLE', undefined, 8],
  ['validate_vetoes.py', 1, 'ORDER_VETOED', undefined, 5],
  // Before: the veto said at the decorator's wrapper, not the `return False, ...` of validate_order.
  ['veto_decorated.py', 1, 'ORDER_VETOED', undefined, 18],
  ['warnings_as_errors.py', 0, 'filled'],
  ['zero_quantity.py', 1, 'INVALID_ORDER', 'quantity', 6],
];

/** What the error says, where the fix is in its words (red team rt-comp10). */
const SAYS: Record<string, RegExp> = {
  // Before: "(2 sub-exceptions)" and nothing of either.
  'exception_group.py':
    /ExceptionGroup: pre-trade checks failed \(2 sub-exceptions\): ValueError: spread is [\d.e-]+; KeyError: 'atr'/,
  // Before: "(its message could not be printed)".
  'exception_str_raises.py': /RiskBreach: \(its message could not be printed: its __str__ raised KeyError: 'max'\)/,
  'unicode_exception.py': /SpreadTropLarge: écart trop large — 3 pips ≥ 2 📉 \(市場\)/,
  'helper_raises.py': /raised at risk_helpers\.py:4 in check_spread/,
  // Before: "generate_order raised TypeError: unhashable type: 'dict'" at the class line.
  'lru_cache_entry.py': /the decorator on generate_order \(line 5\) raised TypeError: unhashable type: 'dict' before/,
  // Before: "No module named 'desk_feed'" alone, where an import at load says what to do.
  'late_import_missing.py':
    /No module named 'desk_feed'; install desk_feed into the interpreter that runs components \(/,
  'keeps_market_data.py': /KeyError: 'close'; .*market_data's keys: ask, /,
  // Before (rt-comp11): "called sys.exit(3)" for the site builtins exit() and quit(), and for `raise SystemExit`.
  'exit_builtin.py':
    /^the component called exit\(3\) \(the interactive shell's exit, .*\) inside generate_order at line 6; return None/,
  'quit_builtin.py':
    /^the component called quit\(\) \(the interactive shell's quit, .*\) inside generate_order at line 6; return None/,
  'system_exit.py': /^the component raised SystemExit inside generate_order at line 6; return None/,
  // Before: the process died of SIGABRT, PROCESS_EXITED with no line; posix._exit ended it with exit code 4.
  'os_abort.py':
    /^the component called os\.abort\(\) inside generate_order at line 6; the harness stopped it there instead of ending its process/,
  'posix_exit.py': /^the component called os\._exit\(4\) inside generate_order at line 6/,
};

/**
 * What the component's run printed, as a fresh `python file.py` would print it, [stdout, stderr], in the one warm
 * worker the corpus runs in (rt-comp11): before, the first component's logging.basicConfig (logging_to_stdout.py's)
 * took every later component's lines, and a helper's basicConfig ran for the first component that imported it only.
 */
const PRINTS: Record<string, [RegExp, RegExp]> = {
  'logging_to_stdout.py': [/^INFO momentum close=None bid=[\d.]+\n$/, /^$/],
  'logging_warnings.py': [/^$/, /^INFO:logging_warnings:bid=[\d.]+\n/],
  'shared_logging_a.py': [/^DESK shared_a bid=[\d.]+\n$/, /^$/],
  'shared_logging_b.py': [/^DESK shared_b ask=[\d.]+\n$/, /^$/],
};

/** A note the outcome carries (the Test Order's "Note" lines, the JSON outcome's notes). */
const NOTES: Record<string, RegExp> = {
  // Before (rt-comp11): the price became metadata.reference_price without a word.
  'shipped_market_order.py':
    /^price [\d.]+ on a market order was kept as metadata\.reference_price \(the decision price\) and not sent/,
};

describe('Python components: a corpus of trader components through Test Order (rt-comp8)', function () {
  this.timeout(120_000);
  let worker: PythonWorker;
  let numpy = false;
  let auditDir: string;
  before(async () => {
    const interpreter = await resolveInterpreter(defaultInterpreterCandidates());
    numpy = spawnSync(interpreter.executable, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
    worker = new PythonWorker({ interpreter, timeoutMs: 10_000 });
    auditDir = mkdtempSync(join(tmpdir(), 'sptrader-corpus-audit-'));
  });
  after(async () => {
    await worker.dispose();
    rmSync(auditDir, { recursive: true, force: true });
  });

  it('each component does what it says, or ends with its error at its field and line', async () => {
    const clock = new TestClock(Date.now());
    const broker = new PaperBroker({ clock, seed: 11 });
    const audit = (await AuditLog.open(auditDir, { clock })).log;
    const engine = new ExecutionEngine({
      clock,
      brokers: { paper: broker },
      audit,
      limits: { ...DEFAULT_RISK_LIMITS },
    });
    await engine.connect('paper');
    const wrong: string[] = [];
    try {
      for (const [name, exit, outcome, path, line, needsNumpy] of TEST_ORDER) {
        if (needsNumpy === true && !numpy) continue;
        const file = join(CORPUS, name);
        const r = await runTestOrder({ file }, { runner: worker, broker, engine, clock });
        const [error] = r.errors;
        const did =
          error?.code ??
          r.response?.status.status ??
          (r.parentSpec !== undefined ? `parent ${r.parentSpec.algo}` : r.order === null ? 'none' : '?');
        const got = [r.exitCode, did, error?.path, error?.line];
        const want = [exit, outcome, path, line];
        if (JSON.stringify(got) !== JSON.stringify(want))
          wrong.push(
            `${name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}: ${r.summary} ${error?.message ?? ''}`,
          );
        const says = SAYS[name];
        if (says !== undefined && !says.test(error?.message ?? ''))
          wrong.push(`${name}: says ${error?.message ?? 'nothing'}`);
        const prints = PRINTS[name];
        const printed = [r.component.stdout, r.component.stderr];
        if (prints !== undefined && !prints.every((p, i) => p.test(printed[i] ?? '')))
          wrong.push(`${name}: printed ${JSON.stringify(printed)}`);
        const note = NOTES[name];
        if (note !== undefined && !r.notes.some((n) => note.test(n)))
          wrong.push(`${name}: notes ${JSON.stringify(r.notes)}`);
        // An error that names a line names the component's file.
        if (error?.line !== undefined && error.file !== file)
          wrong.push(`${name}: its error is in ${String(error.file)}`);
      }
    } finally {
      await engine.close();
      await audit.close();
    }
    assert.deepEqual(wrong, []);
  });
});
