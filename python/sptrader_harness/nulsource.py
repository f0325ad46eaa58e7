"""
Which module a component imported whose source holds a NUL byte (a helper saved as UTF-16 by Notepad or Windows
PowerShell). Python's compile() refuses such a file with "source code string cannot contain null bytes" and names no
file: a SyntaxError whose filename is None (a ValueError before 3.11.4), raised inside the import system, whose frames
Python removes from the traceback. What is left is the frame of the import statement that asked for it; the module is
found from that statement by the import system's own look-up (importlib.util.find_spec), which does not run it.
importlib.import_module keeps the import system's frames, and its compile() names the file; __import__('helper') is
read from the call at that line.
"""
import os
import sys
from sptrader_harness import stdlib

_NUL_MESSAGE = 'null bytes'


def names_nul_source(exc):
    """True for the exception compile() raises for source bytes holding a NUL, when it does not name the file."""
    if not isinstance(exc, (SyntaxError, ValueError)) or _NUL_MESSAGE not in str(exc):
        return False
    filename = getattr(exc, 'filename', None)
    return not (isinstance(filename, str) and os.path.isfile(filename))


def holds_nul(path):
    try:
        with open(path, 'rb') as f:
            return b'\x00' in f.read()
    except OSError:
        return False


def nul_module(tb):
    """(the module's file, the importing file, the importing line) for the import statement (or call) at the innermost
    frame of `tb` outside the import system, or None when no module it names has a NUL byte in its source."""
    last = None
    user = None  # the innermost frame outside the import system: the statement or call that imported
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == 'source_to_code' and _in_importlib(code.co_filename):
            # importlib.import_module('helper') keeps the import system's frames: its compile() names the file.
            path = tb.tb_frame.f_locals.get('path')
            if isinstance(path, str) and user is not None and holds_nul(path):
                return path, user.tb_frame.f_code.co_filename, user.tb_lineno
        if not _in_importlib(code.co_filename):
            user = tb
        last, tb = tb, tb.tb_next
    if last is None:
        return None
    frame = last.tb_frame
    importer = frame.f_code.co_filename
    line = last.tb_lineno
    package = frame.f_globals.get('__package__') if isinstance(frame.f_globals, dict) else None
    for name in _imported_names(importer, line, package):
        origin = _origin(name)
        if origin is not None and holds_nul(origin):
            return origin, importer, line
    return None


def _in_importlib(filename):
    """True for the import system's own code (frozen, or importlib's files)."""
    return filename.startswith('<frozen importlib') or os.path.basename(os.path.dirname(filename)) == 'importlib'


def _imported_names(file, line, package):
    """The dotted names the import statement at `file`:`line` may load, outermost first (`import a.b` loads a, then
    a.b; `from .x import y` loads the package's x, then x.y when y is a module)."""
    ast = stdlib.load('ast')
    try:
        with open(file, 'rb') as f:
            tree = ast.parse(f.read(), file)
    except (OSError, SyntaxError, ValueError):
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno <= line <= (getattr(node, 'end_lineno', None) or node.lineno):
            # __import__('helper'): a builtin, with no frame of its own.
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if called == '__import__' and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and not node.args[0].value.startswith('.'):
                names.extend(_prefixes(node.args[0].value))
            continue
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if not node.lineno <= line <= (getattr(node, 'end_lineno', None) or node.lineno):
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.extend(_prefixes(alias.name))
            continue
        base = node.module or ''
        if node.level:
            try:
                base = stdlib.load('importlib.util').resolve_name('.' * node.level + base, package)
            except (ImportError, ValueError, TypeError):
                continue
        if base:
            names.extend(_prefixes(base))
        names.extend((base + '.' + alias.name) if base else alias.name for alias in node.names if alias.name != '*')
    return names


def _prefixes(dotted):
    parts = dotted.split('.')
    return ['.'.join(parts[:i]) for i in range(1, len(parts) + 1)]


def _origin(name):
    """The source file the import system would load for `name`, without running it; None when it finds none, when the
    module is loaded already (its source compiled), or when the look-up itself fails (a parent package that does not
    load)."""
    if sys.modules.get(name) is not None:
        return None  # loaded: its source compiled
    try:
        spec = stdlib.load('importlib.util').find_spec(name)
    except Exception:
        return None
    origin = getattr(spec, 'origin', None) if spec is not None else None
    return origin if isinstance(origin, str) and os.path.isfile(origin) else None
