"""
The harness's private answer channel, and the processes a component leaves behind.

Channel: the pipes Node gave as stdin/stdout are moved at start-up to a random high descriptor,
close-on-exec, and fds 0/1 are pointed at /dev/null and stderr. A process forked without exec
(os.fork, multiprocessing's fork start) gets /dev/null in their place, so no child can read a request
or speak on the channel. Answers also echo the request's random id, so bytes that still reach the
channel by accident are discarded by Node rather than taken as an answer.

Leftover processes: on Linux the harness becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER),
so a descendant whose parent exits is re-parented to the harness instead of init, even if it left
the process group or the session. The harness then has no descendant at all exactly when it has no
child, which one waitpid(WNOHANG) tells after every run (about a microsecond). Only when that finds
children is /proc walked to kill every descendant and reap it. A warm worker becomes a subreaper at
start-up; a one-run session does it at the first process a component starts (an audit hook), which
keeps ctypes (3-15 ms to import here) off the cold path of components that start none. Elsewhere
(macOS) the answer asks Node to end the worker's whole process group instead.

os._exit() called in the harness process (by a component, or a thread it left) raises ComponentExit
instead of ending the harness: the run fails with COMPONENT_EXIT and its children are still cleaned
up, which a dead harness could not do. In a forked child os._exit is the real one. os.abort() is guarded the same
way, and what Python cannot stop is said with faulthandler's traceback (endings.py).

A forked child is told from the harness by its process id after every component call. getpid() is a system
call (about 2 us on this project's CI machine, a third of a replay record's cost), so a replay batch first arms a
page mapped with MADV_WIPEONFORK (Linux >= 4.14): the kernel hands any forked child that page zeroed, however
it forked (os.fork, multiprocessing, a C library's fork() through ctypes), so reading one byte of it tells a
child apart without a system call, and only a child goes on to ask getpid(). Elsewhere, or when the kernel
refuses the advice, every check asks getpid() as before.
"""
import os
import random
import sys
import time

from sptrader_harness import stdlib

IS_LINUX = sys.platform.startswith('linux')
HARNESS_PID = os.getpid()
SPAWN_EVENTS = frozenset(('os.fork', 'os.forkpty', 'os.posix_spawn', 'os.spawn', 'os.system', 'subprocess.Popen', 'pty.spawn'))
PR_SET_CHILD_SUBREAPER = 36
REQUEST_BUFFER_BYTES = 1 << 20
MADV_WIPEONFORK = 18  # linux/mman.h; Python's mmap module names it only from 3.12 on


class ComponentExit(BaseException):
    """os._exit(code) called in the harness process."""

    def __init__(self, code):
        BaseException.__init__(self, code)
        self.code = code


class ComponentSignal(ComponentExit):
    """A terminating signal the component sent its own harness (os.kill(os.getpid(), signal.SIGTERM)), raised in the
    main thread where the component runs: the run fails with COMPONENT_EXIT at the line that sent it."""

    def __init__(self, name, file, line):
        ComponentExit.__init__(self, None)
        self.name = name  # 'SIGTERM'
        self.file = file  # where it was sent (the audit hook's frame), or None when that is not known
        self.line = line


_real_exit = os._exit


def _guarded_exit(code):
    if os.getpid() == HARNESS_PID:
        threading = sys.modules.get('threading')
        if threading is not None and threading.current_thread() is not threading.main_thread():
            # A thread the component started: the exception ends the thread alone, and the run that started it would
            # go on to send its order, which the process's end would have stopped. Noted for the run to fail.
            try:
                frame = sys._getframe(1)
                STATE.thread_exit = (code, frame.f_code.co_filename, frame.f_lineno, threading.current_thread().name)
            except Exception:
                STATE.thread_exit = (code, None, None, '?')
        raise ComponentExit(code)
    _real_exit(code)


def take_thread_exit():
    """(code, file, line, thread name) of an os._exit a component's thread called since the last call, or None."""
    noted, STATE.thread_exit = STATE.thread_exit, None
    return noted


# Python's recursion limit as the harness started: the least its own code (the answer's JSON, a failure's traceback)
# needs. A component that lowered it (sys.setrecursionlimit(12), at import or in its call) left the harness unable to
# write its answer, which reached SPtrader without its result (PROTOCOL_ERROR) or ended a replay as INTERNAL.
RECURSION_FLOOR = sys.getrecursionlimit()
_real_setrecursionlimit = sys.setrecursionlimit


def _guarded_setrecursionlimit(limit):
    """sys.setrecursionlimit for a component: a limit above the harness's is set; one below it is taken as the
    harness's own, said on stderr (the component's recursion is then stopped at that depth instead)."""
    if type(limit) is int and 0 < limit < RECURSION_FLOOR:
        sys.stderr.write('[sptrader] sys.setrecursionlimit(%d) was taken as %d: the harness that runs the component needs '
                         'that much; a component may raise the limit, not lower it\n' % (limit, RECURSION_FLOOR))
        limit = RECURSION_FLOOR
    _real_setrecursionlimit(limit)


class ProcessState(object):
    subreaper = False
    spawned = False  # a process was started since the last cleanup (seen by the audit hook)
    channel_fds = ()
    sent = None  # (signal number, file, line) of the last terminating signal code in the harness sent to itself
    thread_exit = None  # (code, file, line, thread name) of an os._exit called in a thread of the harness


# Terminating signals a component may send itself by mistake (os.kill(os.getpid(), SIGTERM) to "stop"): a handler
# says where, instead of the harness vanishing with PROCESS_EXITED and no line. SIGINT is Python's KeyboardInterrupt.
CAUGHT_SIGNALS = ('SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2')
HARNESS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '')


STATE = ProcessState()


def _high_fd(fd):
    """A close-on-exec copy of `fd` at a random descriptor number well above the ones code writes to by habit."""
    try:
        fcntl = stdlib.load('fcntl')
    except ImportError:  # Windows: os.dup is already non-inheritable
        return os.dup(fd)
    try:
        ceiling = min(os.sysconf('SC_OPEN_MAX'), 4096)
    except (ValueError, OSError):
        ceiling = 1024
    floor = 200 if ceiling > 400 else 10
    start = random.SystemRandom().randrange(floor, max(floor + 1, ceiling - 32))
    command = getattr(fcntl, 'F_DUPFD_CLOEXEC', None)
    try:
        new = fcntl.fcntl(fd, command if command is not None else fcntl.F_DUPFD, start)
    except OSError:
        new = os.dup(fd)
    os.set_inheritable(new, False)
    return new


def private_fd(fd):
    """A close-on-exec copy of fd at a high random number (as the channel's), for the harness's own writes."""
    return _high_fd(fd)


def open_channel():
    """(requests, answers) as binary files on private descriptors; fd 0 becomes /dev/null and fd 1 a copy of stderr."""
    answers_fd = _high_fd(1)
    requests_fd = _high_fd(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    STATE.channel_fds = (requests_fd, answers_fd)
    if hasattr(os, 'register_at_fork'):
        os.register_at_fork(after_in_child=_forget_channel)
    # A replay batch is one request line of a few hundred KB; the default buffer is the socket's block size (4 KB
    # here), which reads it in some 75 system calls. 1 MB reads it in a handful (readline 0.9 -> 0.35 ms per 300 KB).
    return os.fdopen(requests_fd, 'rb', buffering=REQUEST_BUFFER_BYTES), os.fdopen(answers_fd, 'wb')


def _forget_channel():
    # /dev/null takes the descriptors' place so that the numbers stay taken and hold nothing.
    try:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in STATE.channel_fds:
            os.dup2(null, fd, inheritable=False)
        os.close(null)
    except OSError:
        pass


def in_harness():
    return os.getpid() == HARNESS_PID


def become_subreaper():
    if STATE.subreaper or not IS_LINUX:
        return
    STATE.subreaper = True
    try:
        ctypes = stdlib.load('ctypes')
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:
        pass


def _audit(event, args):
    if event in SPAWN_EVENTS:
        STATE.spawned = True
        if not STATE.subreaper and os.getpid() == HARNESS_PID:
            become_subreaper()
    elif event == 'os.kill' or event == 'os.killpg':
        _note_sent(event, args)


def _note_sent(event, args):
    """Notes a signal sent to the harness itself (its pid, 0 or its group) with the caller's line, for the handler."""
    try:
        target, signum = args[0], args[1]
        if os.getpid() != HARNESS_PID:
            return
        own_group = os.getpgrp()
        if event == 'os.kill' and target not in (HARNESS_PID, 0, -own_group):
            return
        if event == 'os.killpg' and target not in (0, own_group):
            return
        frame = sys._getframe(2)  # _audit's caller is the code that called os.kill
        STATE.sent = (int(signum), frame.f_code.co_filename, frame.f_lineno)
    except Exception:
        pass


def _user_frame(frame):
    """The innermost frame of the user's code (the component, a helper beside it) on frame's stack, or None: the
    harness's own code, Python's library and installed packages are not (they run the component, or it calls them)."""
    roots = _LIBRARY_ROOTS[0]
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith('<'):
            path = os.path.abspath(path)
            if not path.startswith(HARNESS_DIR) and (roots is None or not any(path.startswith(r) for r in roots())):
                return frame
        frame = frame.f_back
    return None


_LIBRARY_ROOTS = [None]  # server.library_roots, set by catch_signals


def _on_signal(signum, frame):
    """
    A terminating signal in the harness. Sent by the component's own code (the audit hook saw os.kill name the
    harness, or the interrupted line is a raise_signal) while the main thread is in component code: ComponentSignal
    is raised there, and the run fails at that line with the harness alive. Else (from another process, or while the
    harness's own code runs): what it was and where is written to stderr, which SPtrader shows with PROCESS_EXITED,
    and the signal's default action ends the harness as it would have.
    """
    signal = stdlib.load('signal')
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = 'signal %d' % signum
    if os.getpid() != HARNESS_PID:
        # A process the component forked: the signal does what it always did there.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    sent, STATE.sent = STATE.sent, None
    running = _user_frame(frame)
    if sent is not None and sent[0] != signum:
        sent = None
    if sent is None and running is not None:
        # signal.raise_signal and signal.pthread_kill raise no audit event: read the interrupted line.
        try:
            linecache = stdlib.load('linecache')
            text = linecache.getline(running.f_code.co_filename, running.f_lineno)
            if 'raise_signal' in text or 'pthread_kill' in text or 'kill(' in text:
                sent = (signum, running.f_code.co_filename, running.f_lineno)
        except Exception:
            pass
    if sent is not None and running is not None:
        raise ComponentSignal(name, sent[1], sent[2])
    if sent is not None:
        where = 'the component sent it itself at %s:%s' % (sent[1], sent[2])
    else:
        where = 'it came from another process (kill, a shutdown, a process manager)'
        if running is not None:
            where += ' while the component ran %s:%s' % (running.f_code.co_filename, running.f_lineno)
    try:
        os.write(2, ('[sptrader] the harness received %s: %s; it ends\n' % (name, where)).encode('utf-8', 'replace'))
    except Exception:
        pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def catch_signals(library_roots):
    """Installs _on_signal for CAUGHT_SIGNALS (main thread, POSIX; a component may install its own over it).
    library_roots() gives the folders of code that is not the user's."""
    _LIBRARY_ROOTS[0] = library_roots
    try:
        signal = stdlib.load('signal')
        for name in CAUGHT_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) == signal.SIG_DFL:
                signal.signal(number, _on_signal)
    except (ImportError, ValueError, OSError):
        pass


def exit_with_parent(poll_seconds=1.0):
    """
    Ends the harness when the process that started it dies (a SIGKILLed CLI, a crashed extension host): Node
    kills it on every normal way out, but a harness in its own session whose component is stuck in a loop
    would otherwise spin on, orphaned, for ever. A daemon thread compares the parent's pid once a second (it
    gets the GIL from a Python loop within the switch interval); when it changed, the harness's own process
    group goes (it is the group's leader: what the component started there goes too), else the harness alone.
    """
    import threading
    parent = os.getppid()

    def watch():
        while True:
            if os.getppid() != parent or parent == 1:
                try:
                    if os.getpgrp() == HARNESS_PID:
                        os.killpg(HARNESS_PID, 9)
                finally:
                    _real_exit(70)
            time.sleep(poll_seconds)

    threading.Thread(target=watch, name='sptrader-exit-with-parent', daemon=True).start()


def watch_processes(eager):
    os._exit = _guarded_exit
    sys.setrecursionlimit = _guarded_setrecursionlimit
    if eager:
        become_subreaper()
    if hasattr(sys, 'addaudithook'):
        sys.addaudithook(_audit)


def _has_children():
    """True while the harness has a live child; reaps the dead ones on the way."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        except OSError:
            return False
        if pid == 0:
            return True


def _descendants(root):
    """Every live process below `root`, from the parent links in /proc/<pid>/stat."""
    children = {}
    try:
        names = os.listdir('/proc')
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, 'rb') as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may itself hold spaces and parentheses.
        fields = stat[stat.rfind(b')') + 2:].split(b' ', 3)
        if len(fields) < 2 or fields[0] == b'Z':
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    found = []
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), ()):
            found.append(pid)
            todo.append(pid)
    return found


def descendants():
    """Every live process below the harness (Linux; empty elsewhere)."""
    return _descendants(HARNESS_PID) if IS_LINUX else []


def end_run(deadline_s=2.0, expected=()):
    """Kills and reaps whatever the component left running. Returns (pids killed, whether Node should end the worker).

    `expected` are processes the run itself started (Debug Order's debug adapter): killed, not reported.
    """
    spawned = STATE.spawned
    STATE.spawned = False
    if not _has_children():
        # Without /proc a grandchild that left its parent is invisible here: let Node end the group.
        return [], spawned and not IS_LINUX
    if not IS_LINUX:
        return [], True
    import signal
    killed = []
    seen = set()
    stop = time.monotonic() + deadline_s
    while True:
        fresh = [pid for pid in _descendants(HARNESS_PID) if pid not in seen]
        for pid in fresh:
            seen.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
                if pid not in expected:
                    killed.append(pid)
            except OSError:
                pass
        if not _has_children():
            return killed, False
        if time.monotonic() > stop:
            return killed, True
        time.sleep(0.001)


class _ForkSentinel(object):
    page = None  # an mmap whose first byte is 1 in the harness and 0 in every process forked from it


_SENTINEL = _ForkSentinel()


def arm_fork_check():
    """Maps the wipe-on-fork page leave_if_forked reads (once; mmap costs a cold run ~0.6 ms to import, so only the
    replay's batches, which check after every record, arm it). Returns whether the page is in use."""
    if _SENTINEL.page is not None:
        return True
    if not IS_LINUX or os.getpid() != HARNESS_PID:
        return False
    try:
        mmap = stdlib.load('mmap')
        # Private and anonymous (-1 adds MAP_ANONYMOUS): the kernel wipes only such pages on fork.
        page = mmap.mmap(-1, mmap.PAGESIZE, flags=mmap.MAP_PRIVATE)
        page.madvise(getattr(mmap, 'MADV_WIPEONFORK', MADV_WIPEONFORK))
        page[0] = 1
    except (ImportError, AttributeError, OSError, ValueError):
        return False
    _SENTINEL.page = page
    return True


def fork_page():
    """The page leave_if_forked reads first (None until arm_fork_check maps it): a loop that holds it may skip the call
    while the page is open and reads 1, which is exactly when leave_if_forked returns at once."""
    return _SENTINEL.page


def leave_if_forked():
    """Ends a process the component forked without exec as soon as it comes back into harness code."""
    page = _SENTINEL.page
    # A page a component closed or overwrote reads as "maybe forked": getpid() then decides, as without it.
    if page is not None and not page.closed and page[0] == 1:
        return
    if os.getpid() != HARNESS_PID:
        _real_exit(0)
