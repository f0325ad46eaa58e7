"""
A component inside a package, loaded once, as Python's own import of `<package>.<stem>` loads it.

A package whose __init__.py imports the component (`from .my_order import MyOrder`, to re-export it) ran the
component's file a second time: the harness executed it under its own name, and its first relative import
(`from .sizing import units`) imported the package, whose __init__ imported `<package>.my_order` afresh. Its
module-level code ran twice (a print said twice, a connection opened twice) and its module-level state was split in
two: the package's helpers saw another copy of the component's classes and globals than the run did. Python imports
the package first and finds the submodule its __init__ loaded; so does the harness, when an __init__.py on the way
names the component's module. Once loaded, the component is also found by its package name, so a helper that
imports it later gets this module, not a second copy.
"""
import os
import re
import sys

from sptrader_harness import stdlib


def qualified_name(package, file):
    """`<package>.<stem>` for a component file in `package`, or None (no package, or a stem no module can be named)."""
    stem = os.path.basename(file)[:-3] if file.endswith('.py') else ''
    if package is None or not stem.isidentifier():
        return None
    return package + '.' + stem


def loaded_by_package(package, qualified, file):
    """The module `<package>.<stem>` that Python's import system loaded from `file` (importing the package first when
    one of its __init__.py names the component's module), or None: then the caller runs the file itself."""
    held = sys.modules.get(qualified)
    if held is not None and getattr(held, '__sptrader_component__', None) is not None:
        # The harness's own earlier load of this file: it is loaded again because it changed.
        del sys.modules[qualified]
        held = None
    if held is None and package not in sys.modules and _named_in_package(package, file):
        try:
            stdlib.load('importlib').import_module(package)
        except Exception:
            # The package does not import (its __init__ fails past the component, or the component fails in it): the
            # component loaded there is kept, else the caller runs the file and says what fails at its own line.
            pass
        held = sys.modules.get(qualified)
    if held is not None and _same_file(getattr(held, '__file__', None), file):
        return held
    return None


def known_by_package(qualified, module):
    """Registers a component the harness ran itself under its package name too, unless that name is taken."""
    if qualified is not None and sys.modules.get(qualified) is None:
        sys.modules[qualified] = module


def _named_in_package(package, file):
    """True when an __init__.py of the component's package, or of a package above it, names the component's module."""
    stem = os.path.basename(file)[:-3]
    word = re.compile(r'\b%s\b' % re.escape(stem))
    folder = os.path.dirname(file)
    for _ in package.split('.'):
        try:
            with open(os.path.join(folder, '__init__.py'), 'rb') as f:
                if word.search(f.read(1 << 20).decode('utf-8', 'replace')):
                    return True
        except OSError:
            pass
        folder = os.path.dirname(folder)
    return False


def _same_file(a, b):
    try:
        return isinstance(a, str) and os.path.samefile(a, b)
    except OSError:
        return False
