"""
What a component prints, kept per call: sys.stdout and sys.stderr are one Stream each for the worker's life,
writing into the current call's bounded Capture (server.py sets the target for each run and batch); and the mark
that ends a run's output on the process's stderr (mark_output), which the session waits for before it takes
that output as the run's (src/python/outputMarks.ts).
"""
import os
import sys


class OutputLimitReached(BaseException):
    """A print past a run's output limit, raised where it was made (BaseException: `except Exception` in a component
    must not swallow it). The run fails with OUTPUT_LIMIT_EXCEEDED all the same; without it a component printing
    in a loop went on until its time limit (30 s) and only then was told."""


class Capture(object):
    """A text stream that keeps at most `limit` bytes and remembers how much more was written."""

    def __init__(self, limit, shared):
        self.parts = []
        self.limit = limit
        # Raise OutputLimitReached from a write past the limit (a Test Order run; a batch's record goes on and is
        # refused after its call). The harness clears it before it writes a note of its own into the capture.
        self.stop_at_limit = False
        # [bytes used by all captures of this call, those used before the current record (a batch's), and where the
        # write that took the current record past the limit was made (None until then)]
        self.shared = shared
        self.buffer = _BytesAdapter(self)
        self.encoding = 'utf-8'
        self.errors = 'replace'

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        size = len(text.encode('utf-8', 'replace'))
        shared = self.shared
        shared[0] += size
        if shared[0] <= self.limit:
            self.parts.append(text)
        if shared[0] - shared[1] > self.limit:
            if shared[2] is None:
                # The write that passed the limit: where it was made (file, line of each frame, innermost first), so
                # that the error can name the component's line that printed it.
                shared[2] = _frames()
            if self.stop_at_limit:
                raise OutputLimitReached()
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError('captured stream has no file descriptor')

    def getvalue(self):
        return ''.join(self.parts)


def _frames(limit=64):
    """(file, line) of the frames that made the current write, innermost first (past the capture's own two)."""
    frames = []
    try:
        frame = sys._getframe(2)
    except Exception:
        return frames
    while frame is not None and len(frames) < limit:
        frames.append((frame.f_code.co_filename, frame.f_lineno))
        frame = frame.f_back
    return frames


class Stream(object):
    """
    sys.stdout or sys.stderr while a component runs: one object for the worker's life, writing into the current call's
    Capture. What a component keeps past its call (logging.basicConfig's handler made at import, `out = sys.stdout` at
    module level) writes into each later call's capture, not into the first call's where no one reads it; between
    calls (a thread's late line) it writes to the process's stderr, which SPtrader shows as the process's output.
    """

    encoding = 'utf-8'
    errors = 'replace'
    closed = False
    line_buffering = True
    newlines = None

    def __init__(self, name, fd):
        self.name = name
        self.fd = fd
        self.target = None
        self.buffer = _BytesAdapter(self)

    def write(self, text):
        target = self.target
        if target is not None:
            return target.write(text)
        if not isinstance(text, str):
            text = str(text)
        try:
            sys.__stderr__.write(text)
        except Exception:
            pass
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self.target is None:
            try:
                sys.__stderr__.flush()
            except Exception:
                pass

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False

    def reconfigure(self, *args, **kwargs):
        # sys.stdout.reconfigure(encoding='utf-8'), common in scripts written for Windows: captured text is UTF-8 already.
        pass

    def close(self):
        # sys.stdout.close(), or a `with sys.stdout:` block: the stream serves every later run, so it stays open, and
        # what the component prints afterwards is still shown (Python's own would raise on it).
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def fileno(self):
        # What writes by descriptor (subprocess.run(..., stdout=sys.stdout), faulthandler) reaches: fd 1 is a copy
        # of fd 2, the process's output, which SPtrader shows with the run (up to its mark, mark_output).
        return self.fd


class _BytesAdapter(object):
    def __init__(self, owner):
        self.owner = owner

    def write(self, data):
        self.owner.write(bytes(data).decode('utf-8', 'replace'))
        return len(data)

    def flush(self):
        pass

    def close(self):
        pass


STDOUT = Stream('<stdout>', 1)
STDERR = Stream('<stderr>', 2)


def capture(out, err):
    STDOUT.target, STDERR.target = out, err
    sys.stdout, sys.stderr = STDOUT, STDERR


def release(real_out, real_err, real_in):
    STDOUT.target = STDERR.target = None
    sys.stdout, sys.stderr, sys.stdin = real_out, real_err, real_in


OUTPUT_FD = [None]  # a private copy of fd 2, where the component's direct output goes, made by server.main()


def mark_output(rid):
    """Ends a run's process output (what the component wrote to fd 1 or 2 itself) with a mark naming the request:
    SPtrader takes that output as the run's once the mark has arrived (src/python/outputMarks.ts), so that a line the
    answer overtook is not shown with the next run. Written through its own copy of fd 2: a component that pointed
    fd 2 elsewhere does not take the mark with it."""
    fd = OUTPUT_FD[0]
    if fd is None or not isinstance(rid, str) or len(rid) != 32:
        return
    try:
        mark = b'\x00SPTRADER_SYNC:' + rid.encode('ascii') + b'\x00'
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
        os.write(fd, mark)
    except Exception:
        pass
