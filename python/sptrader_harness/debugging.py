"""
Debug Order: the one run that calls the component under a debugger (issue 16).

The run listens for a Debug Adapter Protocol client through debugpy before it loads the component: the
editor attaches (its own `sptrader-python` debugger type, or the Python Debugger extension's `debugpy`),
sets its breakpoints, and only then does the run go on, so a breakpoint in generate_order is hit with the
market data, signal and parameters Test Order would give it. What the component returns is answered as
for any run, and the order goes through the same pipeline.

debugpy.listen starts debugpy's adapter as a separate process (it forks again to detach): that process is
the DAP server the editor connects to. It is the run's own process, not the component's, so it is ended
with the run without being reported as one the component left running (`expected_pids`).

debugpy is the interpreter's own when it has one; else the copy the editor names (the Python Debugger
extension bundles one), appended to sys.path so that it never shadows the interpreter's.
"""
import os
import sys
import threading
import time

from sptrader_harness import processes
from sptrader_harness.safejson import ComponentFailure

DEFAULT_ATTACH_TIMEOUT_S = 30.0
HOW_TO_GET = ('install the Python Debugger extension (ms-python.debugpy) in the editor, or debugpy into this interpreter '
              '(%s -m pip install debugpy, or apt install python3-debugpy for the system Python)')


def import_debugpy(fallback_path):
    """The debugpy module: the interpreter's own, else the one under fallback_path; a ComponentFailure saying how to get one."""
    try:
        import debugpy
        return debugpy
    except ImportError:
        pass
    if isinstance(fallback_path, str) and fallback_path and os.path.isdir(fallback_path):
        if fallback_path not in sys.path:
            sys.path.append(fallback_path)
        try:
            import debugpy
            return debugpy
        except ImportError:
            pass
    tried = ' or in %s' % fallback_path if fallback_path else ''
    raise ComponentFailure('DEBUGPY_NOT_FOUND', 'debugpy is not importable in %s%s, so the component cannot run under the debugger; %s'
                           % (sys.executable, tried, HOW_TO_GET % sys.executable))


def finish(adapter, deadline_s=2.0):
    """Ends the debug session (the editor's client sees it end) and waits a moment for the adapter to exit by itself."""
    try:
        import pydevd
        pydevd.stoptrace()
    except Exception:
        pass
    stop = time.monotonic() + deadline_s
    waiting = list(adapter)
    while waiting and time.monotonic() < stop:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except OSError:  # not a child of ours any more, or already reaped
                done = pid
            if done:
                waiting.remove(pid)
        if waiting:
            time.sleep(0.01)


def start(request, announce, adapter):
    """Listens on 127.0.0.1 (any free port), announces the endpoint, waits for a client; the adapter's pids go into `adapter`."""
    # pydevd warns on stderr, into the component's output, that frozen standard modules may hide breakpoints:
    # they are the standard library's, never the component's.
    os.environ.setdefault('PYDEVD_DISABLE_FILE_VALIDATION', '1')
    debugpy = import_debugpy(request.get('debugpy_path'))
    timeout_s = request.get('attach_timeout_ms')
    timeout_s = timeout_s / 1000.0 if isinstance(timeout_s, (int, float)) and timeout_s > 0 else DEFAULT_ATTACH_TIMEOUT_S
    # The adapter is a process of the run: it must be a child of the harness to be ended with the run.
    processes.become_subreaper()
    before = set(processes.descendants())
    try:
        host, port = debugpy.listen(('127.0.0.1', 0))
    except Exception as e:
        raise ComponentFailure('DEBUGGER_FAILED', 'debugpy %s could not listen for the debugger: %s'
                               % (getattr(debugpy, '__version__', '?'), e))
    adapter.extend(pid for pid in processes.descendants() if pid not in before)
    announce({'host': host, 'port': port, 'version': getattr(debugpy, '__version__', None),
              'path': os.path.dirname(os.path.abspath(debugpy.__file__))})
    timer = threading.Timer(timeout_s, debugpy.wait_for_client.cancel)
    timer.daemon = True
    timer.start()
    try:
        debugpy.wait_for_client()
    finally:
        timer.cancel()
    if not debugpy.is_client_connected():
        raise ComponentFailure('DEBUGGER_NOT_ATTACHED', 'no debugger attached to 127.0.0.1:%s within %g s; the component was not run and nothing was sent '
                               '(run Debug Order again, and check that the debug session started)' % (port, timeout_s))
