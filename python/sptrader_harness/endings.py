"""
The other ways a component ends its process (rt-comp11), beside os._exit (processes.py).

os.abort() called in the harness process raises ComponentAbort where it was called, as os._exit raises ComponentExit:
the run fails with COMPONENT_EXIT at that line and the worker carries on (before, the process died of SIGABRT and
the run said neither what was called nor where). A thread the component started that calls it is noted for its run
to fail, as for os._exit. The posix module's own names for both (`import posix; posix._exit(1)`) are guarded too.
In a forked child they are the real ones.

What Python cannot stop (a C library's abort() or _exit() through ctypes, a crash, a fatal signal) still ends the
process: faulthandler then writes the Python frames to the process's stderr (SIGABRT, SIGSEGV, SIGFPE, SIGBUS,
SIGILL), from which SPtrader reads the component's line (src/python/processExit.ts).
"""
import os
import sys

from sptrader_harness import processes, stdlib

_real_abort = os.abort


class ComponentAbort(processes.ComponentExit):
    """os.abort() called in the harness process."""

    def __init__(self):
        processes.ComponentExit.__init__(self, None)


def _guarded_abort():
    if os.getpid() != processes.HARNESS_PID:
        _real_abort()
    threading = sys.modules.get('threading')
    if threading is not None and threading.current_thread() is not threading.main_thread():
        # As os._exit in a thread: the process would have ended there; noted for the run to fail.
        try:
            frame = sys._getframe(1)
            processes.STATE.thread_exit = ('abort', frame.f_code.co_filename, frame.f_lineno, threading.current_thread().name)
        except Exception:
            processes.STATE.thread_exit = ('abort', None, None, '?')
    raise ComponentAbort()


def guard(fault_fd):
    """Guards os.abort and the posix module's _exit and abort (after processes.watch_processes guarded os._exit), and
    has faulthandler write a fatal signal's traceback to `fault_fd` (the harness's own copy of fd 2)."""
    real_exit = getattr(processes, '_real_exit', None)
    os.abort = _guarded_abort
    native = sys.modules.get(os.name)
    if native is not None and native is not os:
        if real_exit is not None and getattr(native, '_exit', None) is real_exit:
            native._exit = os._exit
        if getattr(native, 'abort', None) is _real_abort:
            native.abort = _guarded_abort
    try:
        faulthandler = stdlib.load('faulthandler')
        if not faulthandler.is_enabled():
            faulthandler.enable(file=fault_fd if fault_fd is not None else 2, all_threads=False)
    except Exception:
        pass
