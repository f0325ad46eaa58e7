"""
What ends a replay's batch early besides the time limits (run_batch in server.py), so that a component that fails on
every record is told once, at once, instead of once a record for a million records:
 - a record that ends the replay: one that printed past the output limit (stopped at the print, as a Test Order run
   is) or called sys.exit()/os._exit() (ENDS_REPLAY). The batch ends before it and says so in `stopped`, as for a
   record past its time limit; PythonWorker answers the next batch with that error (src/python/runner.ts);
 - the same failure on many records in a row (FailureRun): the batch ends after the record that made the run long
   enough, and the replay, which counts the same run across batches, stops there (src/usecases/replay.ts).
"""

# Item failures that end the replay at their record: the component asked to stop, or printed without end.
ENDS_REPLAY = frozenset(('OUTPUT_LIMIT_EXCEEDED', 'COMPONENT_EXIT'))
# An order the component's own validate_order refused is its decision, not a failure: it never makes a run.
NOT_A_FAILURE = 'ORDER_VETOED'


class FailureRun(object):
    """
    Records in a row that failed with the same code at the same line, from the request's `failure_run`: {limit, run,
    code, line}, where `run` records before this batch (ending with its record 0's predecessor) failed so. Only failing
    records reach it: a run goes on while each failure is at the record after the one before.
    """

    __slots__ = ('limit', 'count', 'key', 'last')

    def __init__(self, raw):
        raw = raw if isinstance(raw, dict) else {}
        limit = raw.get('limit')
        run = raw.get('run')
        self.limit = limit if type(limit) is int and limit > 0 else 0
        self.count = run if type(run) is int and run > 0 else 0
        self.key = (raw.get('code'), raw.get('line'))
        # The run carried in goes on only if this batch's first record fails the same way.
        self.last = -1 if self.count else -2

    def ends_batch(self, index, error):
        """Counts the failure of record `index` (its failure_json); True when the run has reached the limit."""
        code = error.get('code')
        if code == NOT_A_FAILURE:
            return False
        key = (code, error.get('line'))
        if index == self.last + 1 and key == self.key:
            self.count += 1
        else:
            self.count = 1
            self.key = key
        self.last = index
        return self.limit > 0 and self.count >= self.limit
