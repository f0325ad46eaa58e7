"""
The component's own folder on sys.path while it loads and runs, as `python component.py` puts the script's folder
first on sys.path. SPtraderB ran every component that way (python3 <file>, PYTHONPATH=<workspace>), so a component
in core/orders/execution_algos/ may import a helper beside it by its plain name (`from sizing import size_for`).

A warm worker runs components of several folders: a helper imported by its plain name from one folder must not be
what another folder's component gets for the same name (two categories each with a utils.py). The modules imported
from a folder are set aside while a component of another folder runs, and put back, state and all, when one of its
own runs again. A folder that is an import root (the package root) is on sys.path anyway: nothing is done for it.
"""
import os
import sys

from sptrader_harness import stdlib


class Siblings(object):
    def __init__(self):
        self.owned = {}  # folder -> the top-level names of the modules imported from it by their plain name
        self.kept = {}  # folder -> {module name: module} set aside while another folder's component runs
        self.folder = None  # the folder on sys.path for the current run
        self.before = None  # sys.modules as it was when the run started

    def enter(self, file):
        """Puts the folder of `file` (a component's path, as the request gives it) first on sys.path, with its own
        modules in sys.modules and every other folder's set aside; returns the folder, or None when nothing was done."""
        self.folder = None
        if not isinstance(file, str) or not file.endswith('.py'):
            return None
        folder = os.path.dirname(os.path.abspath(file))
        if stdlib.is_root(folder):
            return None
        for other, names in self.owned.items():
            if other != folder:
                for name in names:
                    if self._from(sys.modules.get(name), other):
                        self._set_aside(name, other)
        kept = self.kept.pop(folder, None)
        if kept:
            sys.modules.update(kept)
        sys.path.insert(0, folder)
        stdlib.add_entry(folder)
        self.folder = folder
        self.before = dict(sys.modules)
        return folder

    def leave(self):
        """Takes the folder off sys.path again, and notes the modules the run imported from it by their plain name."""
        folder = self.folder
        if folder is None:
            return
        self.folder = None
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
        before, self.before = self.before, None
        # The component's own module (server.py names it sptrader_component_…) is the server's to keep.
        # New since the run started, or imported again (a helper's edit drops the old one: freshness.py).
        for name in [n for n, m in list(sys.modules.items()) if before.get(n) is not m and '.' not in n
                     and not n.startswith('sptrader_component_')]:
            if self._from(sys.modules.get(name), folder):
                self.owned.setdefault(folder, set()).add(name)

    def forget(self):
        """Drops what was set aside (a helper's file changed: every user module is imported afresh, freshness.py)."""
        self.kept.clear()
        self.owned.clear()

    def _set_aside(self, name, folder):
        prefix = name + '.'
        for key in [k for k in list(sys.modules) if k == name or k.startswith(prefix)]:
            module = sys.modules.pop(key)
            self.kept.setdefault(folder, {})[key] = module

    @staticmethod
    def _from(module, folder):
        """True when module is a file or a package right inside folder (what its plain name found there)."""
        try:
            file = getattr(module, '__file__', None)
            if isinstance(file, str):
                file = os.path.abspath(file)
                here = os.path.dirname(file)
                if os.path.basename(file) == '__init__.py':
                    here = os.path.dirname(here)
                return here == folder
            path = getattr(module, '__path__', None)
            return path is not None and any(os.path.dirname(os.path.abspath(p)) == folder for p in list(path))
        except Exception:
            return False


def put_back_library(before):
    """Puts back in sys.modules the library modules (Python's own, installed packages, the harness) a run replaced with
    something else (a test double, None, a shim: sys.modules['signal'] = fake) or removed: the next component, and the
    harness itself, import them by name. The user's own modules are left as the run left them. Returns their names."""
    restored = []
    modules = sys.modules
    for name, module in before.items():
        now = modules.get(name)
        if now is module or module is None or stdlib.users(module) or getattr(module, '__sptrader_component__', None):
            continue
        if now is not None and getattr(now, '__file__', None) is not None and getattr(now, '__file__', None) == getattr(module, '__file__', None):
            continue  # imported again from the same file (importlib.reload, a fresh import): the run's own choice
        modules[name] = module
        restored.append(name)
    return restored
