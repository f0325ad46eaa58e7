"""
A per-record time limit for a batch (replay): a record whose component call runs past `limit` seconds is
stopped inside the component, where it is (RecordTimeout raised from a SIGALRM handler), so the batch can
answer with the records before it and say which record hung and at which line. Node's own timeout of the
whole request stays as the backstop for what a signal cannot interrupt (a C loop that holds the GIL).

The timer (ITIMER_REAL, one tick a second or a quarter of the limit) is set once per batch, not per record,
and the ticks do the timing: a record costs two attribute writes and two reads (~0.1 us), no clock read. A
record's time counts from the first tick that sees it, so it is stopped between its limit and two ticks past.
Only during the component's own call does a tick raise; a state request (lazystate.py) pauses it, so the time
SPtrader takes to act on orders is not the component's, and the exchange on the channel is never cut. The
ticks also mark the batch's budget spent (`over`), which the loop reads once a record.
Not used where SIGALRM is not free: no setitimer (Windows), or a component installed its own handler.
"""
import os
import signal
import time


class RecordTimeout(BaseException):
    """A record ran past its limit (BaseException: `except Exception` in a component must not swallow it)."""


class _Watch(object):
    # index: the record whose call is running (-1 between calls); seen/since: the record a tick last saw and when;
    # over: the batch's budget is spent (the loop ends after the current record); fired: a RecordTimeout was raised.
    # raised: RecordTimeouts raised in this run; stuck: what answers a run whose component swallows them (start_run).
    __slots__ = ('index', 'seen', 'since', 'limit', 'deadline', 'over', 'fired', 'paused_at', 'started', 'tick', 'ticks',
                 'raised', 'stuck')

    def __init__(self):
        self.reset(0.0, None)

    def reset(self, limit, deadline):
        self.index = -1
        self.seen = -1
        self.since = 0.0
        self.limit = limit
        self.deadline = deadline
        self.over = False
        self.fired = False
        self.paused_at = None
        self.started = time.perf_counter()
        self.tick = 0.0
        self.ticks = 0
        self.raised = 0
        self.stuck = None


watch = _Watch()


def _foreign():
    """
    A SIGALRM that is not the timer's (the component sent it, or its own signal.alarm ran out): what it did before
    the watchdog was there, which is to end the process (SIGALRM's default action). SPtrader reports the exit.
    """
    try:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    finally:
        os.kill(os.getpid(), signal.SIGALRM)


def _on_tick(signum, frame):
    w = watch
    now = time.perf_counter()
    # The timer's ticks come at started + k * tick (never early; late when a C call held the interpreter, then
    # coalesced): a call with no tick due since the last one counted is a SIGALRM from elsewhere.
    due = int((now - w.started) / w.tick + 0.25)
    if due <= w.ticks:
        _foreign()
        return
    w.ticks = due
    if w.deadline is not None and now >= w.deadline:
        w.over = True
    index = w.index
    if index < 0 or w.paused_at is not None:
        return
    if index != w.seen:
        # First seen by this tick: its time counts from here (at most one tick late).
        w.seen = index
        w.since = now
        w.raised = 0
        return
    if now - w.since >= w.limit:
        # Raised again on every tick while the call goes on: a component that swallows it is still stopped.
        w.fired = True
        w.raised += 1
        if w.raised > STUCK_AFTER and w.stuck is not None:
            _answer_stuck(w, frame)
            return
        raise RecordTimeout()


def _take_alarm(limit_seconds, handler):
    """
    Installs `handler` for SIGALRM when there is a limit and SIGALRM is free: returns what stop() needs (a tuple
    holding the handler found), or None (no setitimer on Windows, a component's own handler, not the main thread).
    """
    if not limit_seconds or not hasattr(signal, 'setitimer'):
        return None
    try:
        previous = signal.getsignal(signal.SIGALRM)
        if previous not in (signal.SIG_DFL, None):
            return None
        signal.signal(signal.SIGALRM, handler)
    except (ValueError, OSError):  # not the main thread
        return None
    return (previous,)


def start(limit_seconds, deadline=None, stuck=None):
    """
    Sets the timer for a batch (`deadline`: the perf_counter time its budget ends, which sets watch.over; `stuck(frame,
    index)` answers the batch when a record swallows its RecordTimeouts); returns what stop() needs (a tuple), or None
    when SIGALRM is not ours to use.
    """
    previous = _take_alarm(limit_seconds, _on_tick)
    if previous is None:
        return None
    watch.reset(float(limit_seconds), deadline)
    watch.stuck = stuck
    watch.tick = tick = min(1.0, max(0.05, watch.limit / 4))
    signal.setitimer(signal.ITIMER_REAL, tick, tick)
    return previous


def stop(started):
    """Clears the timer and puts back the handler start() found (its answer)."""
    watch.index = -1
    previous = started[0]
    try:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
    except (ValueError, OSError):
        pass


class paused(object):
    """While SPtrader answers a state request: no tick raises, and the wait is not counted as the record's."""

    __slots__ = ('mine',)

    def __enter__(self):
        w = watch
        self.mine = w.index >= 0 and w.paused_at is None
        if self.mine:
            w.paused_at = time.perf_counter()
        return self

    def __exit__(self, *exc):
        w = watch
        if self.mine and w.paused_at is not None:
            w.since += time.perf_counter() - w.paused_at
            w.paused_at = None
        return False


def _on_deadline(signum, frame):
    w = watch
    if time.perf_counter() - w.started < w.limit - 0.05:
        # Before the limit: not the timer's (see _foreign).
        _foreign()
        return
    if w.index < 0:
        return
    w.fired = True
    w.raised += 1
    if w.raised > STUCK_AFTER and w.stuck is not None:
        _answer_stuck(w, frame)
        return
    raise RecordTimeout()


# RecordTimeouts a call may swallow before stuck() answers for it (a run's ticks are 0.1 s apart: within SPtrader's
# 0.5 s of grace after the limit).
STUCK_AFTER = 2


def _answer_stuck(w, frame):
    """
    The call swallowed every RecordTimeout (a bare `except:` or `except BaseException:` in a retry loop): the request is
    answered from here, with the line the component is at, instead of SPtrader's own timeout ending the process later
    with no line. The answer asks SPtrader to end the process (recycle); the timer stops, and the loop runs until then.
    """
    stuck, w.stuck = w.stuck, None
    signal.setitimer(signal.ITIMER_REAL, 0)
    stuck(frame, w.index)


def start_run(limit_seconds, stuck=None):
    """
    For one run (Test Order): the first tick at the limit itself, then one every 0.1 s while the run goes on (a
    component that swallows the RecordTimeout gets it again; past STUCK_AFTER of them, stuck(frame) answers the run).
    watch.index is 0 for the whole run: its loading, constructor, entry point and validate_order. Returns what stop()
    needs, or None (as start()).
    """
    previous = _take_alarm(limit_seconds, _on_deadline)
    if previous is None:
        return None
    watch.reset(float(limit_seconds), None)
    watch.stuck = stuck
    watch.index = 0
    signal.setitimer(signal.ITIMER_REAL, float(limit_seconds), 0.1)
    return previous
