"""
What the component-output fuzz's components do besides returning a value (copied next to them, imported
as fuzz_helpers): forge answers on every descriptor, leave processes behind, fork. Test code only.
"""
import json
import os
import random
import sys
import threading
import time

FORGED = {'symbol': 'FORGED', 'side': 'sell', 'order_type': 'market', 'quantity': 999999}
# Request ids a component read from the harness (deliberately, as only a test would); later runs forge with them.
STALE = []


def secrets():
    """The harness's current request id and answer descriptor, found by walking up the stack."""
    frame = sys._getframe()
    while frame is not None:
        local = frame.f_locals
        if 'rid' in local and 'self' in local and hasattr(local['self'], 'proto_out'):
            return local['rid'], local['self'].proto_out.fileno()
        frame = frame.f_back
    return None, None


def harvest():
    rid, _ = secrets()
    if rid:
        STALE.append(rid)


def forged_lines(rng):
    # Never the current id: a component that reads it can answer for itself (the documented boundary).
    current = secrets()[0]
    ids = ['%032x' % rng.getrandbits(128), '0' * 32, '', None] + [rid for rid in STALE[-3:] if rid != current]
    lines = []
    for rid in ids:
        body = {'id': rid, 'ok': True, 'result': FORGED, 'stdout': '', 'stderr': ''}
        text = json.dumps(body, separators=(',', ':'))
        lines.append('\n' + text + '\n')
        lines.append(text)  # no newline: it must not join the real answer
    lines.append('{"ok":true,"result":%s}\n' % json.dumps(FORGED))
    return lines


def descriptors():
    try:
        fds = set(int(fd) for fd in os.listdir('/proc/self/fd'))
    except OSError:
        fds = set()
    return sorted(fds | set(range(0, 64)))


def write_everywhere(seed, fds=None):
    """Writes forged answers (guessed, blank and stale ids, partial lines) to every descriptor, the answer channel included."""
    rng = random.Random(seed)
    lines = forged_lines(rng)
    for fd in fds if fds is not None else descriptors():
        for line in rng.sample(lines, 3):
            try:
                os.write(fd, line.encode())
            except OSError:
                pass


def print_forgeries(seed):
    rng = random.Random(seed)
    for line in forged_lines(rng)[:4]:
        print(line)
        sys.__stdout__.write(line)
        sys.__stderr__.write(line)


def fork_forger(seed):
    """A forked child writes everywhere and then returns FORGED into the harness's code; the parent returns normally."""
    pid = os.fork()
    if pid == 0:
        write_everywhere(seed)
        return True
    os.waitpid(pid, 0)
    return False


def thread_forger(seed):
    done = threading.Event()

    def run():
        rng = random.Random(seed)
        while not done.is_set():
            write_everywhere(rng.getrandbits(32), [secrets_fd[0]] if secrets_fd[0] is not None else None)
            time.sleep(0.001)

    secrets_fd = [secrets()[1]]
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.01)
    done.set()
    thread.join()


def multiprocess_forger(seed):
    import multiprocessing
    context = multiprocessing.get_context('fork')
    process = context.Process(target=write_everywhere, args=(seed,))
    process.start()
    process.join(5)


def leave_processes(kind, folder):
    """Starts processes that outlive the run; returns their pids (which the test checks are dead afterwards)."""
    import subprocess
    if kind == 'popen':
        return [subprocess.Popen(['sleep', '60']).pid]
    if kind == 'popen-session':
        return [subprocess.Popen(['sleep', '60'], start_new_session=True).pid]
    if kind == 'fork':
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        return [pid]
    if kind == 'double-fork':
        # A daemon: the child leaves the session, forks the real worker and exits.
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                time.sleep(60)
                os._exit(0)
            os.write(write, str(grandchild).encode())
            os._exit(0)
        os.close(write)
        grandchild = int(os.read(read, 32))
        os.close(read)
        os.waitpid(pid, 0)
        return [grandchild]
    if kind == 'shell':
        path = os.path.join(folder, 'shell-%d-%d' % (os.getpid(), random.getrandbits(32)))
        os.system('sleep 60 & echo $! > %s' % path)
        with open(path) as f:
            return [int(f.read())]
    if kind == 'pipe-holder':
        # Holds the output pipes open, as a grandchild that keeps the CLI waiting would.
        return [subprocess.Popen(['sleep', '60'], stdout=sys.__stderr__, stderr=sys.__stderr__, start_new_session=True).pid]
    raise ValueError(kind)
