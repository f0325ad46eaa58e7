"""
The user's import roots on sys.path, and the standard library modules the harness imports only when it needs them.

Components run as SPtraderB ran them, with the package root first on sys.path (PYTHONPATH=<workspace root>), before
the standard library: a user's json.py, signal.py or token.py there is what `import json` finds. The interpreter is
therefore started without the root (runner.ts hands it over in SPTRADER_IMPORT_ROOTS) and the harness loads first;
add_roots then puts the root in front. What the harness imports later (traceback on a failure, ast for inspect,
asyncio for an async component, ctypes when processes are left) goes through load(), which imports it with the
user's folders off sys.path and the user's modules set aside: the component keeps its own module of that name,
the harness gets the standard library's.
"""
import os
import sys

ROOTS_VARIABLE = 'SPTRADER_IMPORT_ROOTS'

_roots = ()  # the user's import roots, absolute, each ending in a separator
_entries = frozenset()  # the same as they appear on sys.path
_folders = ()  # components' own folders that have been on sys.path (siblings.py), absolute, each ending in a separator
_library = ()  # folders that are never the user's, even under a root: the interpreter's, site-packages, SPtrader's
_loaded = {}


def add_roots():
    """Puts the import roots SPtrader named first on sys.path and in PYTHONPATH (what the component and the processes
    it starts see); returns them. Without SPTRADER_IMPORT_ROOTS (the harness started by hand) PYTHONPATH holds them."""
    global _roots, _entries, _library
    given = os.environ.pop(ROOTS_VARIABLE, None)
    if given is None:
        roots = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    else:
        roots = [p for p in given.split(os.pathsep) if p]
        sys.path[0:0] = [p for p in roots if p not in sys.path]
        rest = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p and p not in roots]
        os.environ['PYTHONPATH'] = os.pathsep.join(roots + rest)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    library = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, getattr(sys, 'base_exec_prefix', sys.exec_prefix), here):
        if p:
            library.add(os.path.join(os.path.abspath(p), ''))
    _library = tuple(library)
    _roots = tuple(set(os.path.join(os.path.abspath(p), '') for p in roots))
    _entries = frozenset(roots) | frozenset(['', '.'])
    return roots


def is_root(folder):
    """True when folder is one of the import roots."""
    return os.path.join(os.path.abspath(folder), '') in _roots


def add_entry(folder):
    """A component's own folder, put on sys.path for its run (siblings.py): set aside like the roots when the harness
    imports from the standard library, and what lies under it is the user's."""
    global _entries, _folders
    if folder not in _entries:
        _entries = _entries | frozenset([folder])
    entry = os.path.join(os.path.abspath(folder), '')
    if entry not in _folders:
        _folders = _folders + (entry,)


def users(module):
    """True when module is one of the user's files (under an import root, outside the interpreter and SPtrader)."""
    try:
        file = getattr(module, '__file__', None)
        if not isinstance(file, str):
            path = getattr(module, '__path__', None)
            file = next(iter(path), None) if path is not None else None
        if not isinstance(file, str) or not file:
            return False
        file = os.path.abspath(file)
    except Exception:
        return False
    if not (file.startswith(_roots) or file.startswith(_folders)) or file.startswith(_library):
        return False
    parts = file.split(os.sep)
    return 'site-packages' not in parts and 'dist-packages' not in parts


def load(name):
    """The standard library's module `name`, whatever the user's folders hold or the component imported."""
    module = _loaded.get(name)
    if module is not None:
        return module
    module = sys.modules.get(name)
    if module is None or users(module):
        module = _import(name)
    _loaded[name] = module
    return module


def _root_entry(entry):
    try:
        return entry in _entries or os.path.join(os.path.abspath(entry), '') in _roots
    except Exception:
        return False


def _import(name):
    path = sys.path[:]
    aside = {}
    for key, module in list(sys.modules.items()):
        if users(module):
            aside[key] = sys.modules.pop(key)
    sys.path[:] = [p for p in path if not _root_entry(p)]
    try:
        __import__(name)
        return sys.modules[name]
    finally:
        sys.path[:] = path
        sys.modules.update(aside)
