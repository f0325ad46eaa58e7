"""
`async def generate_order` (or `async def execute`): what the entry point returns is a coroutine, run here
to its end before its order is read, in Test Order, in a replay batch and under Debug Order alike.

One event loop per component file in a worker, created at its first coroutine (asyncio is not imported before:
it costs a sync component's cold run ~10 ms) and kept for the worker's life, so that what a component keeps across
calls (an aiohttp session, a websocket client, an asyncio.Lock) stays on the loop it was made on. A loop runs only
while a call of its own component awaits its coroutine: a task the component started and did not await goes on
during its later calls, never between them, and never during another component's (one loop for the worker had a
task left by one component print into, and act during, every async run of the others). A coroutine that does not finish is ended by Node's per-call
timeout, which kills the worker's whole process tree (runner.ts): nothing of it is left to answer a later
call, which a fresh worker serves. One stopped by an interrupt while it waits takes the loop with it
(`abandon`), so that it cannot go on during a later call either.

An async generator (a `yield` in `async def generate_order`), and a coroutine whose result is itself
awaitable (`return self.fetch()` without `await`), are refused with the entry point's file and line.
"""
import types

from sptrader_harness import returns, stdlib
from sptrader_harness.safejson import ComponentFailure


class EventLoop(object):
    """The worker's one event loop, made when first needed."""

    def __init__(self):
        self.loops = {}  # component file -> its event loop
        self.current = None  # the loop asyncio.set_event_loop was last given
        # Where the last coroutine stopped mid-await was waiting, (file, line) outermost first: a time limit stops the
        # loop in its selector, so the traceback holds none of the component's lines.
        self.stopped_at = []

    def settle(self, result, cls, entry, file):
        """result as it is when it is not awaitable; else what awaiting it gave (its exception propagates, as a call's does)."""
        if isinstance(result, types.AsyncGeneratorType):
            raise ComponentFailure('NOT_SERIALIZABLE', '%s is an async generator (it yields), so it gives no order; return the order '
                                   '(async def is fine) instead of yielding it' % _where(cls, entry), file, _def_line(cls, entry))
        if not _awaitable(result):
            return result
        loop = self.event_loop(file)
        asyncio = stdlib.load('asyncio')
        task = asyncio.ensure_future(result, loop=loop)
        try:
            value = loop.run_until_complete(task)
        except BaseException:
            if not task.done():
                self.stopped_at = _awaiting_frames(task)
                self.abandon(loop, task, file)
            raise
        if isinstance(value, types.AsyncGeneratorType) or _awaitable(value):
            _discard(value)
            raise ComponentFailure('NOT_SERIALIZABLE', '%s returned an awaitable (%s) from its coroutine, not an order: await it there '
                                   '(return await ...)' % (_where(cls, entry), type(value).__name__), file, _def_line(cls, entry))
        return value

    def stopped_line(self, file):
        """The line of file the last coroutine stopped mid-await was waiting at (the innermost), or None; read once."""
        frames, self.stopped_at = self.stopped_at, []
        import os
        lines = [line for name, line in frames if os.path.abspath(name) == file]
        return lines[-1] if lines else None

    def abandon(self, loop, task, file=None):
        """
        An interrupt (SIGINT, os._exit called by a thread) stopped the loop with the coroutine still waiting:
        the loop is dropped with it, so that it can never go on during a later call. The next coroutine gets
        a new loop; what was kept on this one is gone with it.
        """
        task._log_destroy_pending = False  # asyncio would print "Task was destroyed but it is pending!"
        task.cancel()
        if self.loops.get(file) is loop:
            del self.loops[file]
        try:
            loop.close()
        except Exception:
            pass

    def event_loop(self, file=None):
        loop = self.loops.get(file)
        asyncio = stdlib.load('asyncio')
        if loop is None or loop.is_closed():
            loop = self.loops[file] = asyncio.new_event_loop()
        # Code that asks for "the" loop outside a coroutine (asyncio.get_event_loop() in a constructor, an
        # asyncio.Lock on Python 3.8/3.9) gets the running component's.
        if self.current is not loop:
            asyncio.set_event_loop(loop)
            self.current = loop
        return loop


def _awaiting_frames(task):
    """(file, line) of each coroutine the task waits in, from its own to the innermost it awaits."""
    frames = []
    try:
        coro = task.get_coro()
        for _ in range(200):
            frame = getattr(coro, 'cr_frame', None) or getattr(coro, 'gi_frame', None)
            if frame is None:
                break
            frames.append((frame.f_code.co_filename, frame.f_lineno))
            coro = getattr(coro, 'cr_await', None) or getattr(coro, 'gi_yieldfrom', None)
    except Exception:
        pass
    return frames


def _awaitable(value):
    # What asyncio accepts: a coroutine, a Future, any object whose class defines __await__.
    return isinstance(value, types.CoroutineType) or getattr(type(value), '__await__', None) is not None


def _discard(value):
    """Closes a coroutine nobody will run, so that Python does not warn 'never awaited' into the component's output."""
    if isinstance(value, types.CoroutineType):
        value.close()


def _where(cls, entry):
    return '%s.%s' % (getattr(cls, '__name__', '?'), entry)


def _def_line(cls, entry):
    plan = returns.plan_for_class(cls, entry)
    return plan.def_line if plan is not None else None
