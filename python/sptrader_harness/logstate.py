"""
Logging as each Test Order finds it: as a fresh `python file.py` would, whatever the components before it configured.

The logging module keeps its configuration in the process (each logger's handlers, level, filters, propagate and
disabled flags, logging.disable, the record factory), and logging.basicConfig does nothing once the root logger has a
handler. In a warm worker the first component that called basicConfig decided where every later component's lines
went, and each later component's own basicConfig was silently a no-op. What the harness does instead (rt-comp11):

- Each run ends with logging put back as it was before the run (the worker's own state, in which nothing is
  configured): no component inherits another's configuration, and each finds basicConfig working.
- What a component's module configured while it loaded (basicConfig at its top, or in a helper it imports) is kept
  with that module and put back at each of its later runs, which do not load it again (server.py keeps the module
  while its file is unchanged): its second Test Order logs as its first did. What its calls configured (basicConfig
  or addHandler in __init__ or generate_order) is not kept: a fresh process would do it again in each run, and kept,
  an addHandler in __init__ would add a second handler at the next run and print each line twice.
- A replay's batches that share a kept instance (`instance`) are one run to the component: the state a batch ended
  with is put back for the next batch of that instance, whose __init__ does not run again.
- A user module (a helper beside the component, a module of the package root) whose import configured logging is
  imported again at every later run: `import desk_logging` in another component (or in the same one's calls) would
  otherwise find it in sys.modules and configure nothing, where that component's own process would have run it.
  Which of the modules a run first imported did the configuring cannot be told apart (nor from the component's own
  top level) without tracing imports, so each user module first imported in a run that changed logging is imported
  again: that is what a fresh process does anyway; only module state that a fresh process would not have carried
  from one Test Order to the next is not carried either. Components already loaded keep the copy they imported.

Nothing here imports logging: a worker whose components never import it pays nothing.
"""
import sys

from sptrader_harness import stdlib

# What a logger that nothing configured has (the root's level is WARNING; every other logger's NOTSET).
_WARNING = 30
_NOTSET = 0
MAX_KEPT_INSTANCES = 16


def _module():
    """The standard library's logging module when it has been imported (never the user's own logging.py), else None."""
    logging = sys.modules.get('logging')
    if logging is None or stdlib.users(logging) or not hasattr(logging, 'Logger') or not hasattr(logging, 'root'):
        return None
    return logging


def snapshot():
    """The process's logging configuration, or None when logging has not been imported (nothing configured)."""
    logging = _module()
    if logging is None:
        return None
    try:
        root = logging.root
        manager = logging.Logger.manager
        loggers = [root] + [v for v in list(manager.loggerDict.values()) if isinstance(v, logging.Logger)]
        return (
            tuple((lg, lg.level, tuple(lg.handlers), lg.propagate, lg.disabled, tuple(lg.filters)) for lg in loggers),
            root,
            manager.disable,
            logging.raiseExceptions,
            logging.lastResort,
            logging.getLogRecordFactory(),
            logging.getLoggerClass(),
            getattr(logging, '_warnings_showwarning', None) is not None,
        )
    except Exception:
        return None


def restore(state):
    """Puts logging's configuration back as `state` (snapshot()) holds it; None: as nothing had configured it."""
    logging = _module()
    if logging is None:
        return
    try:
        manager = logging.Logger.manager
        if state is not None and logging.root is not state[1]:
            # logging.root replaced (rare): the root that the loggers' parents point at comes back.
            logging.root = logging.Logger.root = manager.root = state[1]
        kept = {}
        if state is not None:
            for entry in state[0]:
                kept[id(entry[0])] = entry
        root = logging.root
        loggers = [root] + [v for v in list(manager.loggerDict.values()) if isinstance(v, logging.Logger)]
        for lg in loggers:
            entry = kept.get(id(lg))
            if entry is not None and entry[0] is lg:
                _, level, handlers, propagate, disabled, filters = entry
            else:
                # A logger made since (logging.getLogger('momentum')): as a fresh process's getLogger would make it.
                level, handlers, propagate, disabled, filters = (_WARNING if lg is root else _NOTSET), (), True, False, ()
            if lg.level != level:
                lg.level = level
            if len(lg.handlers) != len(handlers) or any(a is not b for a, b in zip(lg.handlers, handlers)):
                lg.handlers[:] = handlers
            lg.propagate = propagate
            lg.disabled = disabled
            if len(lg.filters) != len(filters) or any(a is not b for a, b in zip(lg.filters, filters)):
                lg.filters[:] = filters
        if state is None:
            manager.disable, raise_exceptions, last_resort, factory, logger_class, capturing = 0, True, None, None, None, False
        else:
            _, _, manager.disable, raise_exceptions, last_resort, factory, logger_class, capturing = state
        logging.raiseExceptions = raise_exceptions
        if last_resort is not None:
            logging.lastResort = last_resort
        if factory is not None and logging.getLogRecordFactory() is not factory:
            logging.setLogRecordFactory(factory)
        if logger_class is not None and logging.getLoggerClass() is not logger_class:
            logging.setLoggerClass(logger_class)
        if not capturing and getattr(logging, '_warnings_showwarning', None) is not None:
            logging.captureWarnings(False)  # warnings go back to stderr as warnings, not through a logger
        # isEnabledFor's answers are cached per logger from 3.7 on.
        clear = getattr(manager, '_clear_cache', None)
        if clear is not None:
            clear()
    except Exception:
        pass


class Logs(object):
    """The logging state each run starts from and ends with (server.py's handle, load, run and run_batch)."""

    def __init__(self):
        self.before = None  # the state before the current run: put back at its end
        self.since = None  # the state changes are measured from (after the load, or after a kept state was put back)
        self.loaded = None  # the module the current run loaded afresh
        self.modules = {}  # id(component module) -> (module, the state its load left)
        self.instances = {}  # a replay batch's instance key -> the state its last batch ended with
        self.instance = None  # the current batch's instance key
        self.again = set()  # user modules whose import configured logging: imported again at each run

    def begin(self):
        """At a run's start: the modules to import again are taken out of sys.modules, and the state is noted."""
        self.loaded = None
        self.instance = None
        for name in sorted(self.again):
            module = sys.modules.pop(name, None)
            if module is None or '.' not in name:
                continue
            # `from core.utils import desk_logging` finds the package's attribute before sys.modules: it goes too.
            parent, _, child = name.rpartition('.')
            package = sys.modules.get(parent)
            if package is not None and getattr(package, child, None) is module:
                try:
                    delattr(package, child)
                except Exception:
                    pass
        self.before = self.since = snapshot()

    def loaded_module(self, module):
        """A component module loaded afresh: what its load configured is its own for its later runs."""
        self.loaded = module
        file = getattr(module, '__file__', None)
        for key in [k for k, (m, _) in self.modules.items() if m is not module and getattr(m, '__file__', None) == file]:
            del self.modules[key]  # the same file's earlier module (an edit compiled it again): not run again
        state = snapshot()
        if state != self.before:
            self.modules[id(module)] = (module, state)
        else:
            self.modules.pop(id(module), None)

    def enter(self, module):
        """After the load: a module loaded in an earlier run gets what its load configured then."""
        if module is self.loaded:
            return
        kept = self.modules.get(id(module))
        if kept is not None and kept[0] is module:
            restore(kept[1])
        self.since = snapshot()

    def resume(self, key):
        """A replay batch that goes on with a kept instance: the state its instance's last batch ended with."""
        self.instance = key
        kept = self.instances.get(key)
        if kept is not None:
            restore(kept)
            self.since = snapshot()

    def keep_for(self, key):
        """A replay batch with a new kept instance: its state is kept for the next batch of that instance."""
        self.instance = key
        self.instances.pop(key, None)

    def end(self, new_modules, live_keys=()):
        """At a run's end: the user modules the run first imported (`new_modules()`, asked only then: a pass over
        sys.modules) are imported again from now on when it changed logging; logging is put back as the run found it."""
        now = snapshot()
        if now != self.since:
            self.again.update(new_modules())
        if self.instance is not None:
            self.instances[self.instance] = now
            for key in [k for k in self.instances if k not in live_keys and k != self.instance]:
                del self.instances[key]
        self.loaded = None
        self.instance = None
        restore(self.before)
