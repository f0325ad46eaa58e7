"""
The user's own modules a component imports (a sibling helper, its package, the workspace's core.orders.order_base),
kept current in a warm worker. The component file itself is recompiled when it changes (server.py); a module it
imports stays in sys.modules, so an edit to a helper would not run until the worker restarted. Each run first
checks the files of the user's modules it has seen; when one changed (or went), all of them are dropped from
sys.modules, packages too (a package keeps its submodules as attributes, and `from pkg import helper` would find
the old one there), and the caller loads the component afresh. Unchanged, nothing is reloaded: a helper's module
state lives on as it would in one Python process.

A user module is one whose source file, or whose package folders, lie under a folder of PYTHONPATH (the package
root SPtrader starts the interpreter with comes first) and outside the interpreter's own installation (its prefixes,
site-packages) and SPtrader's library: the bundled base classes and installed packages are left alone.
"""
import os
import sys

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Freshness(object):
    def __init__(self):
        self.files = {}  # module name -> (source file, (mtime_ns, size)) of the user's modules seen
        self.packages = set()  # names of the user's namespace packages seen (no file of their own)
        self.seen = 0  # len(sys.modules) when last scanned: nothing new was imported when it is unchanged
        prefixes = set()
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, getattr(sys, 'base_exec_prefix', sys.exec_prefix), _HERE):
            if p:
                prefixes.add(os.path.join(os.path.abspath(p), ''))
        self.prefixes = tuple(prefixes)
        roots = set()
        for p in os.environ.get('PYTHONPATH', '').split(os.pathsep):
            if p:
                roots.add(os.path.join(os.path.abspath(p), ''))
        self.roots = tuple(roots)

    def _own(self, path):
        if not isinstance(path, str) or not path:
            return False
        path = os.path.abspath(path)
        if not path.startswith(self.roots) or path.startswith(self.prefixes):
            return False
        parts = path.split(os.sep)
        return 'site-packages' not in parts and 'dist-packages' not in parts

    def scan(self):
        """Notes the user's modules imported since the last scan (after a component loaded or ran)."""
        if len(sys.modules) == self.seen:
            return
        for name, module in list(sys.modules.items()):
            if name in self.files or name in self.packages or name.startswith(('sptrader_component_', 'sptrader_harness')):
                continue
            if getattr(module, '__sptrader_component__', None) is not None and getattr(
                    getattr(module, '__spec__', None), 'name', None) != name:
                # A component under its own name (server.py own_name): the server reloads it when its file changes.
                # Not one its package's __init__ imported (packaged.py): the package holds it, and is imported afresh.
                continue
            try:
                file = getattr(module, '__file__', None)
                if file is None:
                    path = getattr(module, '__path__', None)
                    if path is not None and list(path) and all(self._own(p) for p in path):
                        self.packages.add(name)
                    continue
                if not isinstance(file, str) or not file.endswith('.py') or not self._own(file):
                    continue
                st = os.stat(file)
            except Exception:
                continue
            self.files[name] = (file, (st.st_mtime_ns, st.st_size))
        self.seen = len(sys.modules)

    def stale(self):
        """True when a user module's file changed since it was imported; then all of them are dropped from sys.modules."""
        changed = False
        for name, (file, key) in self.files.items():
            try:
                st = os.stat(file)
            except OSError:
                changed = True
                break
            if (st.st_mtime_ns, st.st_size) != key:
                changed = True
                break
        if not changed:
            return False
        for name in list(self.files) + list(self.packages):
            sys.modules.pop(name, None)
        self.files.clear()
        self.packages.clear()
        self.seen = 0
        # Finders cache folder listings; a helper added since must be found.
        import importlib
        importlib.invalidate_caches()
        return True
