/** `sptrader help`: every command and option, as the README lists them. */
import { REPLAY_USAGE } from './replay';
import { ALGO_USAGE } from './algo';
import { COMPARE_USAGE } from './compare';

export const USAGE = `Usage: sptrader <command> [options]

Commands:
  test-order <component.py>   Run an order component and try its order: on the paper venue it fills on a scratch copy
                              of the paper account (same cash, positions and resting orders) and the account is left
                              as it was (the audit log records the check, CheckOrder, not the scratch fills); with
                              --broker it is sent to that broker's paper/practice/testnet account.
  execute <component.py>      The same, and the order trades on the paper account itself (or --broker's account).
      --class NAME            The component class, when the file defines several.
      --symbol S              Symbol for market data (default: the component's metadata, else EUR_USD).
      --side buy|sell         market_data['side'] for components that read it (default buy).
                              --side, --broker, --environment: any letters (SELL, OANDA) read as the word.
      --market-data FILE      JSON market data; its keys replace the venue's quote.
                              Given as written; a crossed quote, a price ≤ 0 or a spread ≠ ask − bid is noted.
      --signal FILE           JSON signal passed to the component.
      --param k=v             Component parameter (repeatable), read and checked as __metadata__ declares it.
      --state-dir DIR         Where the paper account lives (default ./.sptrader).
      --python PATH           Python interpreter (default: $SPTRADER_PYTHON, python3, python).
      --timeout SECONDS       Stop the component after this long (default 30).
      --output-limit-bytes N  What the component may print (default 1048576).
      --max-answer-bytes N    What it may return, in bytes of JSON (default 262144).
      --max-metadata-bytes N  What its __metadata__ may hold, in bytes of JSON (default 65536).
      --max-nesting-depth N   How deeply its answer or __metadata__ may nest lists and dicts (default 64).
      --limits FILE           Risk limits and circuit breaker as JSON (default <state-dir>/risk-limits.json if present).
      --broker B              paper (default), oanda, alpaca, binance or ib: that broker's paper/practice/testnet
                              account (credentials from SPTRADER_* environment variables; see README).
      --environment E         The broker's environment (default its paper/practice/testnet one). Test Order never
                              sends to a live account.
      --base-url URL          Point the adapter at any compatible server (OANDA, Alpaca, Binance).
      --data-url URL          Alpaca's market-data host (quotes; your keys go there too). Required with --base-url.
      --host H --port P --client-id N   Interactive Brokers TWS / IB Gateway (default 127.0.0.1:7497).
      --venues LIST --profiles FILE   Several venues (as for compare): a component that returns
                              {'route': 'best_price', 'venues': [...], ...order} has its venue chosen among them.
      --json                  Print one JSON object instead of the summary.
  reset-paper [--yes]         Start the paper account afresh (starting cash, no positions, orders or fills); working
                              paper orders are cancelled first. Without --yes it only says what would be reset.
      --state-dir DIR         Where the paper account lives (default ./.sptrader).
${REPLAY_USAGE}${COMPARE_USAGE}${ALGO_USAGE}  halt [--reason R] [--flatten --yes]
                              Emergency stop: HALTED at once (kept across restarts), cancel every open order,
                              and with --flatten --yes close every position at market.
  resume [--reason R]         Back to ACTIVE after a halt or a circuit-breaker trip; refused while a halt that was
                              cut short (killed mid-stop) is unfinished: \`sptrader halt\` again finishes it first.
  status                      Trading state, circuit breaker, working and external orders, damaged state files.
  positions | account         Show the paper account's positions or balances.
  orders                      Show the engine's working orders at every venue (UNCONFIRMED ones too) and the
                              paper venue's open orders.
      --state-dir DIR         Where the paper account lives (default ./.sptrader).
      --json                  Print JSON.
  audit verify [DIR]          Check the audit log's hash chain (default DIR: <state-dir>/audit); exit 1 if broken.
  audit tail [DIR] [-n N]     Print the last N audit records (default 20).
      --state-dir DIR         Where the state lives (default ./.sptrader).
      --json                  Print JSON.
  recover [--yes]             Check the state files against the audit log; with --yes, rebuild the damaged,
                              missing or rolled-back ones from it (without --yes nothing is changed).
      --state-dir DIR         Where the state lives (default ./.sptrader).
      --json                  Print JSON.
  help                        Show this text.

Exit codes:
  0   done: the order reached the venue and the venue did not refuse it (or the component returned None)
  1   component or validation error: nothing was sent (audit verify: the chain is broken)
  2   usage error (a replay into a trading state folder too)
  3   denied before sending (risk checks, trading halted): nothing was sent
  4   broker error, or the venue did not confirm the order (it is looked up, never resent)
  5   the state directory is in use by another SPtrader process (or its lock file cannot be read): nothing was read or sent
  6   a state file is unreadable, damaged, missing or could not be written; the message names it. Nothing was sent
      (unless the output shows the order's status: then it was sent and its state could not be saved)
  7   the venue rejected the order
  70  internal error (a bug): please report it; SPTRADER_DEBUG=1 prints the stack trace
`;
