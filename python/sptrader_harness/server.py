"""
JSON-lines server that runs order components for SPtrader (stdlib only, Python >= 3.8).

Requests arrive one per line, each with a fresh random `id`; every answer is a line that starts with
that id (`{"id":"<id>",...`), preceded by a newline so that stray bytes before it cannot join it.
The channel is private (see processes.py): a copy of stdin/stdout at a random high descriptor,
close-on-exec and closed in forked children, while fd 1 is pointed at stderr and fd 0 at devnull.
Per call, sys.stdout/sys.stderr write into bounded captures returned with the result; what a
component returns and its __metadata__ are measured against limits from the request while they are
converted (safejson.py), and processes it left running are killed before the answer is sent. A
designed-dialect component's own validate_order vets each order it returns before any of that
(validation.py): a veto or an exception there fails the run, or the batch item, with nothing sent.
An `async def` entry point's coroutine is run to its end on the worker's one event loop first (awaiting.py).

Components are loaded by compiling their source into a fresh module, never importlib.reload: a .pyc
is validated by whole-second mtime and size, so a quick same-size edit could run stale code.

This file stays whole past ~450 lines: run, run_batch and inspect share the loading, class resolution,
capture and failure handling below, and splitting them would split one request's path across files.
"""
import builtins
import json
import os
import signal as _signal_module  # bound at start-up: a component that puts a shim in sys.modules['signal'] must not reach it
import sys
import time
import types
import weakref

from sptrader_harness import awaiting, debugging, endings, freshness, habits, logstate, metadata_values, nulsource, packaged, processes, returns, siblings, stdlib, validation, watchdog
from sptrader_harness.batch_columns import ColumnError, batch_rows, row_filler
from sptrader_harness.batch_stops import ENDS_REPLAY, FailureRun
from sptrader_harness.capture import OUTPUT_FD, Capture, OutputLimitReached, capture, mark_output, release
from sptrader_harness.lazystate import LazyState, StateSync, StateSyncError
from sptrader_harness.parameters import constructor_style, declaration_problem, dropped_message, dropped_parameters, parameter_problem, short_repr
from sptrader_harness.safejson import ORDER_ITEM, ORDER_ITEM_NO_LINE, Budget, ComponentFailure, answer_text, flat_json, safe_json

BUNDLED_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'sptrader_lib')
FALLBACK_MODULES = {
    'core': ('core/__init__.py', True),
    'core.orders': ('core/orders/__init__.py', True),
    'core.base': ('core/base/__init__.py', True),
    'core.orders.order_base': ('core/orders/order_base.py', False),
    'core.base.order': ('core/base/order.py', False),
}
DEFAULT_ANSWER_BYTES = 256 * 1024
DEFAULT_METADATA_BYTES = 64 * 1024
DEFAULT_DEPTH = 64
# Error texts are the component's (str(exception) may be anything); these keep an answer small.
MAX_MESSAGE_CHARS = 4000
MAX_TRACEBACK_CHARS = 16000
MAX_CLASSES = 2000
# A batch's results together may be this many times the answer limit (replay stops a batch at its first order).
BATCH_ANSWER_FACTOR = 64
# The harness's own JSON, bound once: a component that rebinds json.dumps or json.loads (a test double, a faster
# JSON shim) must not change what the harness writes on its channel or reads from it.
# Its own classes, with the methods the others call through `self` captured now: a component that patches
# json.JSONEncoder.iterencode (or JSONDecoder.raw_decode) on the class had the harness write its text instead of the
# answer, which Node discarded and then waited out the timeout for.
class _Encoder(json.JSONEncoder):
    encode = json.JSONEncoder.encode
    iterencode = json.JSONEncoder.iterencode
    default = json.JSONEncoder.default


class _Decoder(json.JSONDecoder):
    decode = json.JSONDecoder.decode
    raw_decode = json.JSONDecoder.raw_decode


_encode_answer = _Encoder(ensure_ascii=True, allow_nan=False, separators=(',', ':')).encode
_encode_item = _Encoder(separators=(',', ':')).encode
_encode_key = _Encoder(sort_keys=True, default=str).encode
_decode = _Decoder().decode


class FallbackFinder(object):
    """Serves the bundled base classes only when the user's workspace does not provide them."""

    def find_spec(self, fullname, path=None, target=None):
        entry = FALLBACK_MODULES.get(fullname)
        if entry is None:
            return None
        # importlib.machinery is already loaded at start-up; importlib.util would cost ~2 ms per cold run.
        import importlib.machinery as machinery
        relative, is_package = entry
        location = os.path.join(BUNDLED_ROOT, relative)
        spec = machinery.ModuleSpec(fullname, machinery.SourceFileLoader(fullname, location), origin=location, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(location)]
        spec.has_location = True
        return spec


class LimitExceeded(Exception):
    pass


def frame_line(frame, file):
    """The line of the innermost running frame in the component's file, from a signal handler's frame; else None."""
    lines = frame_lines(frame, file)
    return lines[0] if lines else None


def frame_lines(frame, file):
    """The lines the frames running in the component's file are at, innermost first."""
    lines = []
    try:
        while frame is not None:
            if os.path.abspath(frame.f_code.co_filename) == file:
                lines.append(frame.f_lineno)
            frame = frame.f_back
    except Exception:
        pass
    return lines


def swallowed_by(frame, file):
    """
    For a call that caught every RecordTimeout: ' (the `except:` at line N catches it)', the innermost handler in the
    component's file that takes any BaseException (a bare except, BaseException, or a tuple naming it) around a line
    it is running; ' (a bare `except:` or `except BaseException:` catches it)' when none can be told.
    """
    ast = stdlib.load('ast')
    lines = frame_lines(frame, file)
    try:
        with open(file, 'rb') as f:
            tree = ast.parse(f.read(), file)
        found = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try) or not node.body:
                continue
            first, last = node.body[0].lineno, getattr(node.body[-1], 'end_lineno', None) or node.body[-1].lineno
            for handler in node.handlers:
                names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(n is None or (isinstance(n, ast.Name) and n.id == 'BaseException') for n in names):
                    depth = next((i for i, line in enumerate(lines) if first <= line <= last), None)
                    if depth is not None:
                        found.append((depth, -first, handler.lineno, 'except:' if handler.type is None else 'except BaseException:'))
        if found:
            _, _, line, text = min(found)
            return ' (the `%s` at line %d catches it)' % (text, line)
    except Exception:
        pass
    return ' (a bare `except:` or `except BaseException:` catches it)'


def timeout_frame(tb, file, awaiting):
    """component_frame for a RecordTimeout: an async component's is raised in the event loop's selector, outside the
    coroutine, whose line is then where it was waiting (awaiting.py)."""
    line, text = component_frame(tb, file)
    if line is None:
        line = awaiting.stopped_line(file)
    return line, text


def component_frame(tb, file):
    """The innermost traceback frame inside the component's file, and the formatted tail from it."""
    traceback = stdlib.load('traceback')
    frames = traceback.extract_tb(tb)
    line = None
    first = None
    for i, frame in enumerate(frames):
        if os.path.abspath(frame.filename) == file:
            line = frame.lineno
            if first is None:
                first = i
    text = ''.join(traceback.format_list(frames[first:] if first is not None else frames))
    return line, text


_library_roots = []


def library_roots():
    """Folders of code that is not the user's: Python's own library, installed packages, SPtrader's harness and base classes."""
    if not _library_roots:
        sysconfig = stdlib.load('sysconfig')
        roots = set([os.path.dirname(os.path.dirname(os.path.abspath(__file__)))])
        for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
            try:
                roots.add(os.path.abspath(sysconfig.get_paths()[key]))
            except (KeyError, TypeError, ValueError):
                pass
        for path in sys.path:
            if path and ('site-packages' in path or 'dist-packages' in path):
                roots.add(os.path.abspath(path))
        _library_roots.extend(sorted(os.path.join(r, '') for r in roots))
    return _library_roots


def raised_elsewhere(tb, file):
    """' (raised at sizing.py:4 in size_for)' when the innermost frame of the user's own code that raised is in a module
    other than the component (a helper beside it): the error's line stays the component's call, the helper's is said
    too. '' when the component's own code raised, or only libraries did."""
    try:
        traceback = stdlib.load('traceback')
        for frame in reversed(traceback.extract_tb(tb)):
            path = os.path.abspath(frame.filename)
            if path == file:
                return ''
            if not path.endswith('.py') or any(path.startswith(r) for r in library_roots()) or not os.path.isfile(path):
                continue
            here = os.path.dirname(file)
            shown = os.path.relpath(path, here) if path.startswith(os.path.join(here, '')) else path
            return ' (raised at %s:%s in %s)' % (shown, frame.lineno, frame.name)
    except Exception:
        pass
    return ''


def describe(exc, depth=0):
    try:
        text = str(exc)
    except BaseException as e:
        # An exception class whose own __str__ fails (a format key it lacks): what failed, rather than nothing.
        try:
            why = '%s: %s' % (type(e).__name__, e)
        except BaseException:
            why = type(e).__name__
        text = '(its message could not be printed: its __str__ raised %s)' % why[:200]
    inner = getattr(exc, 'exceptions', None)
    if depth < 2 and isinstance(inner, tuple) and inner and isinstance(exc, getattr(builtins, 'BaseExceptionGroup', ())):
        # An ExceptionGroup (several checks gathered, asyncio.TaskGroup): its own text only counts them; say each one.
        shown = '; '.join(describe(e, depth + 1) for e in inner[:5])
        text = '%s: %s%s' % (text, shown, '; and %d more' % (len(inner) - 5) if len(inner) > 5 else '')
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + '... (%d characters in all)' % len(text)
    return '%s: %s' % (type(exc).__name__, text)


class Limits(object):
    """What a component's answer may cost, from the request (RunnerOptions on the Node side)."""

    __slots__ = ('answer_bytes', 'metadata_bytes', 'depth')

    def __init__(self, raw):
        raw = raw if isinstance(raw, dict) else {}
        self.answer_bytes = _positive(raw.get('answer_bytes'), DEFAULT_ANSWER_BYTES)
        self.metadata_bytes = _positive(raw.get('metadata_bytes'), DEFAULT_METADATA_BYTES)
        self.depth = _positive(raw.get('depth'), DEFAULT_DEPTH)

    def answer(self, entry, file):
        return Budget(self.answer_bytes, self.depth, 'the order %s returned' % entry, 'ANSWER_TOO_LARGE', 'ANSWER_TOO_DEEP', file)

    def metadata(self, file):
        return Budget(self.metadata_bytes, self.depth, '__metadata__', 'METADATA_TOO_LARGE', 'METADATA_TOO_DEEP', file)


def _positive(value, default):
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


_signal_style = weakref.WeakKeyDictionary()
_execute_style = weakref.WeakKeyDictionary()


def signal_style(cls):
    """How cls's generate_order takes the signal: 'positional' (market_data, signal), 'keyword' (a keyword-only
    `signal`), 'keywords' (both by name: `def generate_order(self, **kwargs)`) or None (market_data alone:
    `def generate_order(self, market_data)` is a component too). Read from
    the code object, as instantiate does; cached per class."""
    style = _signal_style.get(cls, False)
    if style is not False:
        return style
    style = _style(cls, 'generate_order')
    try:
        _signal_style[cls] = style
    except TypeError:
        pass
    return style


def execute_style(cls):
    """'execute' for execute(market_state), the shipped base class's; 'execute_context' for an execute that takes a
    second argument, as SPtraderB's other Order base declared it: execute(self, market_state, signal_context)."""
    style = _execute_style.get(cls)
    if style is None:
        style = 'execute_context' if _style(cls, 'execute', explicit=True) == 'positional' else 'execute'
        try:
            _execute_style[cls] = style
        except TypeError:
            pass
    return style


def _style(cls, method, explicit=False):
    """'positional' when cls's `method` takes a second argument (any, with *args unless explicit), 'keyword' when it
    takes `signal` by keyword only (or **kwargs), else None."""
    raw = None
    for klass in getattr(cls, '__mro__', ()):
        if method in vars(klass):
            raw = vars(klass)[method]
            break
    skip = 0 if isinstance(raw, staticmethod) else 1
    function = getattr(raw, '__func__', raw)
    # A decorator made with functools.wraps (timing, logging, retry) takes (*args, **kwargs): the signature that
    # counts is the function it wraps, as inspect.signature reads it.
    try:
        for _ in range(100):
            wrapped = getattr(function, '__wrapped__', None)
            if wrapped is None or getattr(wrapped, '__code__', None) is None:
                break
            function = wrapped
    except Exception:
        function = getattr(raw, '__func__', raw)
    code = getattr(function, '__code__', None)
    if code is None:
        return None if explicit else 'positional'
    if code.co_argcount - skip >= 2 or (code.co_flags & 0x04 and not explicit):
        return 'positional'
    keyword_only = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    if code.co_argcount - skip == 0 and not explicit and (code.co_flags & 0x08 or ('market_data' in keyword_only and 'signal' in keyword_only)):
        # generate_order(self, **kwargs) or generate_order(self, *, market_data, signal=None): nothing it can take by
        # position, market_data and signal by name.
        return 'keywords'
    if 'signal' in code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount] or code.co_flags & 0x08:
        return 'keyword'
    return None


def call_execute(instance, style, state, signal):
    """instance.execute(market_state), with the signal in market_state['signal'] and, for an execute that takes it, as
    the signal_context argument too ({} when there is none: it is a dict there, never None)."""
    if signal is not None:
        state['signal'] = signal
    if style == 'execute_context':
        return instance.execute(state, signal if signal is not None else {})
    return instance.execute(state)


def call_generate(instance, cls, market_data, signal):
    """instance.generate_order(market_data, signal), as its signature takes the signal."""
    style = signal_style(cls)
    if style == 'positional':
        return instance.generate_order(market_data, signal)
    if style == 'keyword':
        return instance.generate_order(market_data, signal=signal)
    if style == 'keywords':
        return instance.generate_order(market_data=market_data, signal=signal)
    return instance.generate_order(market_data)


def component_failure(exc, entry, file, where='inside', market_data=None, instance=None, signal=None):
    """What a component raised (any BaseException: it must never end the harness) as a ComponentFailure; a KeyError
    for a key the call's market_data (or the instance's config) lacks says which keys they have."""
    if isinstance(exc, ComponentFailure):
        return exc
    if isinstance(exc, SystemExit):
        line, text = component_frame(sys.exc_info()[2], file)
        return ComponentFailure('COMPONENT_EXIT', 'the component %s %s %s%s; return None to place no order instead'
                                % (exit_call(exc, sys.exc_info()[2]), where, entry, ' at line %s' % line if line is not None else ''),
                                file, line, text)
    if isinstance(exc, processes.ComponentSignal):
        line, text = component_frame(sys.exc_info()[2], file)
        if exc.line is not None and exc.file is not None and os.path.abspath(exc.file) == file:
            line = exc.line
        sent = '' if exc.line is None or exc.file is None or os.path.abspath(exc.file) == file else ' (sent at %s:%s)' % (exc.file, exc.line)
        return ComponentFailure('COMPONENT_EXIT', 'the component sent its own process %s %s %s at line %s%s; the harness stopped it there '
                                'instead of ending. Return None to place no order instead' % (exc.name, where, entry, line, sent), file, line, text)
    if isinstance(exc, processes.ComponentExit):
        line, text = component_frame(sys.exc_info()[2], file)
        called = 'os.abort()' if isinstance(exc, endings.ComponentAbort) else 'os._exit(%r)' % (exc.code,)
        return ComponentFailure('COMPONENT_EXIT', 'the component called %s %s %s at line %s; the harness stopped it there instead of '
                                'ending its process. Return None to place no order instead' % (called, where, entry, line), file, line, text)
    line, text = component_frame(sys.exc_info()[2], file)
    if isinstance(exc, SyntaxError) and isinstance(exc.filename, str) and os.path.isfile(exc.filename) or nulsource.names_nul_source(exc):
        # An import inside the call reached a module that does not compile.
        return imported_syntax_failure(exc, file, line, text, sys.exc_info()[2])
    if isinstance(exc, KeyboardInterrupt):
        return ComponentFailure('COMPONENT_INTERRUPTED', '%s was interrupted by KeyboardInterrupt (SIGINT) at line %s; nothing was sent'
                                % (entry, line), file, line, text)
    if line is None and type(exc) is TypeError and instance is not None:
        # Raised by the call itself (a generate_order(self) that takes no market_data): said at its def line.
        where = entry_definition(instance, entry, file)
        if where is not None and entry_is_wrapped(instance, entry):
            # A decorator on it (functools.lru_cache, a retry wrapper) raised before the method's own code ran.
            return ComponentFailure('COMPONENT_ERROR', 'the decorator on %s (line %s) raised %s before %s\'s own code ran%s' % (
                entry, where, describe(exc), entry, '; functools.lru_cache and functools.cache key on the arguments, and market_data '
                'and the signal are dicts, which cannot be keys: cache what you compute from them instead'
                if 'unhashable' in str(exc) else ''), file, where, text)
        if where is not None:
            return ComponentFailure('COMPONENT_ERROR', '%s could not be called: %s; the contract declares it %s' % (
                entry, describe(exc), CONTRACT_SIGNATURES.get(entry, entry)), file, where, text)
    if line is None and instance is not None:
        # Raised in a base class's file, which the message names: said at the component's class.
        line = class_line(type(instance), file)
    return ComponentFailure('COMPONENT_ERROR', '%s raised %s%s%s%s%s%s%s%s' % (
        entry, describe(exc), raised_elsewhere(sys.exc_info()[2], file), missing_key(exc, market_data, instance, signal),
        config_never_set(exc, instance, file), habits.read_as_attribute(exc, market_data, signal),
        no_signal(exc, entry, signal), beside_component(exc, file), not_installed(exc) + habits.iso_z_before_311(exc)),
        file, line, text)


def exit_call(exc, tb):
    """What the component did that raised SystemExit, as its code says it: 'called exit(3)' or 'called quit()' (the site
    builtins the interactive shell offers: they raise SystemExit as sys.exit does), 'raised SystemExit(3)', or else
    'called sys.exit(3)' (sys.exit is built in: no frame of its own tells it from a renamed import of it)."""
    shown = '' if exc.code is None else repr(exc.code)
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    try:
        if last is not None:
            frame = last.tb_frame
            quitter = frame.f_locals.get('self') if frame.f_code.co_name == '__call__' else None
            # site's Quitter ('<frozen _sitebuiltins>' from 3.11 on, _sitebuiltins.py before).
            if quitter is not None and getattr(type(quitter), '__module__', None) == '_sitebuiltins':
                name = getattr(quitter, 'name', None)
                if name in ('exit', 'quit'):
                    return 'called %s(%s) (the interactive shell\'s %s, which ends a script as sys.exit does)' % (name, shown, name)
            text = stdlib.load('linecache').getline(frame.f_code.co_filename, last.tb_lineno)
            if 'SystemExit' in text and 'raise' in text:
                return 'raised SystemExit%s' % ('(%s)' % shown if shown else '')
    except Exception:
        pass
    return 'called sys.exit(%r)' % (exc.code,)


def thread_exit_failure(noted, entry, file):
    """A thread the component started called os._exit while its entry point ran: the process would have ended there,
    and the order it returned is not sent."""
    code, where, line, thread = noted
    at_file = where is not None and os.path.abspath(where) == file
    said = (' at line %s' % line) if at_file else (' at %s:%s' % (where, line) if where is not None else '')
    called = 'os.abort()' if code == 'abort' else 'os._exit(%r)' % (code,)
    return ComponentFailure('COMPONENT_EXIT', 'a thread the component started (%s) called %s%s while %s ran; the process '
                            'would have ended there, so what %s returned was not sent. Return None to place no order instead'
                            % (thread, called, said, entry, entry), file, line if at_file else None)


def not_installed(exc):
    """For an import inside the call of a module that is not there (pandas, talib): what to do, as at load."""
    if type(exc) is not ModuleNotFoundError or not isinstance(getattr(exc, 'name', None), str):
        return ''
    return '; install %s into the interpreter that runs components (%s), or fix the import' % (
        exc.name.split('.')[0], sys.executable)


def no_signal(exc, entry, signal):
    """For None subscripted in a generate_order run without a signal: that the signal may be the None."""
    if signal is not None or entry != 'generate_order' or type(exc) is not TypeError or "'NoneType' object is not subscriptable" not in str(exc):
        return ''
    return ('; if that is the signal: this run has none (signal is None; give one with the CLI\'s --signal FILE or the editor\'s '
            'Component Inputs, and a replay gives none), so read it as (signal or {}).get(...)')


def config_never_set(exc, instance, file):
    """For `self.config` read on an OrderBase component whose own __init__ never called OrderBase's: says so, at that
    __init__'s line (OrderBase.__init__(config) is what sets self.config, with the parameters in it)."""
    try:
        if type(exc) is not AttributeError or instance is None or getattr(exc, 'name', 'config') != 'config' \
                or "'config'" not in str(exc) or 'config' in getattr(instance, '__dict__', {}):
            return ''
        cls = type(instance)
        if not any(b.__name__ == 'OrderBase' for b in cls.__mro__[1:]):
            return ''
        owner = next((k for k in cls.__mro__ if '__init__' in vars(k)), None)
        if owner is None or owner.__name__ == 'OrderBase':
            return ''
        line = entry_definition(instance, '__init__', file)
        return ('; self.config is set by OrderBase.__init__(config), which %s.__init__%s never calls: define it as '
                '__init__(self, config) and call super().__init__(config) in it (config holds the parameters)'
                % (owner.__name__, ' (line %s)' % line if line is not None else ''))
    except Exception:
        return ''


CONTRACT_SIGNATURES = {'generate_order': 'generate_order(self, market_data, signal=None)', 'execute': 'execute(self, market_state)'}


def entry_definition(instance, entry, file, of_class=False):
    """The line of the def of instance's entry point (of the class itself with of_class), when it is in the component's
    file; else None."""
    try:
        method = getattr(instance if of_class else type(instance), entry, None)
        code = returns.code_of_function(method)
        if code is not None and os.path.abspath(code.co_filename) == file:
            return code.co_firstlineno
    except Exception:
        pass
    return None


def entry_is_wrapped(instance, entry):
    """Whether instance's entry point is a decorator's wrapper around the method the component wrote."""
    try:
        method = getattr(type(instance), entry, None)
        method = getattr(method, '__func__', method)
        return getattr(method, '__wrapped__', None) is not None or getattr(method, '__code__', None) is None \
            or returns.code_of_function(method) is not method.__code__
    except Exception:
        return False


def beside_component(exc, file):
    """For a relative path not found: where relative paths are read from (the working folder: the package root, as
    SPtraderB ran components from the workspace) when the file is there beside the component instead. For input() at
    the end of its input: that a component has none."""
    if type(exc) is EOFError:
        return '; a component has no input to read (input() and sys.stdin find none): take the value as a parameter'
    try:
        name = getattr(exc, 'filename', None)
        if not isinstance(exc, FileNotFoundError) or not isinstance(name, str) or not name or os.path.isabs(name):
            return ''
        folder = os.path.dirname(file)
        if os.path.abspath(name) == os.path.join(folder, name) or not os.path.exists(os.path.join(folder, name)):
            return ''
        return ("; relative paths are read from the working folder %s, and %r is beside the component: open "
                "os.path.join(os.path.dirname(__file__), %r)" % (os.getcwd(), name, name))
    except Exception:
        return ''


def missing_key(exc, market_data, instance, signal=None):
    """For a KeyError: what market_data, the signal and self.config hold when the key is in none of them (a component
    written for a replay's candles reads market_data['close'], which a Test Order's quote does not have; a parameter not
    given; a signal without the key the component reads)."""
    if type(exc) is not KeyError or len(exc.args) != 1 or not isinstance(exc.args[0], str) or not isinstance(market_data, dict):
        return ''
    key = exc.args[0]
    try:
        if key in market_data:
            return ''
        config = getattr(instance, 'config', None) if instance is not None else None
        if isinstance(config, dict) and key in config:
            return ''
        if isinstance(signal, dict) and signal:
            if key in signal:
                return ''
            keys = sorted(k for k in dict.keys(market_data) if isinstance(k, str))[:40]
            signal_keys = ', '.join(sorted(k for k in signal if isinstance(k, str))[:40]) or 'none'
            given = ', '.join(sorted(k for k in config if isinstance(k, str))[:40]) if isinstance(config, dict) else None
            return "; neither market_data nor the signal%s has %r (market_data's keys: %s; the signal's: %s%s)" % (
                '' if given is None else ' nor self.config', key, ', '.join(keys) or 'none', signal_keys,
                '' if given is None else "; self.config's: %s" % (given or 'none'))
        keys = [k for k in dict.keys(market_data) if isinstance(k, str)]
        pending = getattr(market_data, '_key', None) if getattr(market_data, 'pending', False) else None
        if isinstance(pending, str):
            keys.append(pending)
        listed = ', '.join(sorted(keys)[:40]) or 'none'
        if not isinstance(config, dict):
            return '; market_data has no %r (its keys: %s)' % (key, listed)
        given = ', '.join(sorted(k for k in config if isinstance(k, str))[:40]) or 'none'
        return "; neither market_data nor self.config has %r (market_data's keys: %s; self.config's: %s)" % (key, listed, given)
    except Exception:
        return ''


def parse_result(result, entry, file, limits):
    """What the entry point returned, with JSON text (the to_json envelope) read into Python values; safe_json then
    makes it JSON-safe within the answer limits (None stays None)."""
    if isinstance(result, (bytes, bytearray)):
        if len(result) > limits.answer_bytes:
            raise ComponentFailure('ANSWER_TOO_LARGE', '%s returned %s bytes, more than the limit of %s bytes; nothing was sent'
                                   % (entry, '{:,}'.format(len(result)), '{:,}'.format(limits.answer_bytes)), file)
        result = bytes(result).decode('utf-8', 'replace')
    if isinstance(result, types.GeneratorType):
        # `yield order` makes the entry point a generator function: calling it runs none of its body.
        code = result.gi_code
        raise ComponentFailure('NOT_SERIALIZABLE', '%s contains yield, so calling it returns a generator and runs none of its code; '
                               'return the order (a dict), or None for no order' % entry, code.co_filename, code.co_firstlineno)
    if isinstance(result, tuple) and hasattr(type(result), '_fields'):
        # A namedtuple would reach SPtrader as a list, and be refused as one without its field names.
        raise ComponentFailure('NOT_SERIALIZABLE', '%s returned a namedtuple %s, not a dict; return its _asdict()' % (entry, type(result).__name__), file)
    if type(result) is tuple and len(result) == 2 and type(result[0]) is dict and isinstance(result[1], str):
        # `return order, reason` (a habit from functions that explain themselves) reached SPtrader as a list of both.
        raise ComponentFailure('NOT_SERIALIZABLE', '%s returned a tuple of %d values, a dict and a text, not the order itself; return '
                               'the dict alone (`return order`; a note can go in its metadata: order[\'metadata\'] = {\'reason\': ...})'
                               % (entry, len(result)), file)
    if type(result) is tuple and len(result) == 1 and isinstance(result[0], dict):
        # `return order,`: a trailing comma makes a tuple, which reached SPtrader as a list of one order.
        raise ComponentFailure('NOT_SERIALIZABLE', '%s returned a tuple holding the order, not the order itself (a comma after '
                               '`return order`?); return the dict alone' % entry, file)
    if isinstance(result, str):
        if len(result) > limits.answer_bytes:
            raise ComponentFailure('ANSWER_TOO_LARGE', '%s returned a string of %s characters, more than the limit of %s bytes; nothing was sent'
                                   % (entry, '{:,}'.format(len(result)), '{:,}'.format(limits.answer_bytes)), file)
        try:
            result = _decode(result)
        except ValueError as e:
            if not result.strip():
                raise ComponentFailure('COMPONENT_ERROR', '%s returned an empty string; to place no order, return None; an order is a dict '
                                       'or to_json(order)' % entry, file)
            if habits.python_dict_text(result):
                raise ComponentFailure('COMPONENT_ERROR', "%s returned a string that is not JSON: a dict written out as Python text "
                                       "(str(order) or repr: single quotes, True/None); return the dict itself, or to_json(order)" % entry, file)
            raise ComponentFailure('COMPONENT_ERROR', '%s returned a string that is not JSON (%s); return a dict or to_json(order)' % (entry, e), file)
        except RecursionError:
            raise ComponentFailure('ANSWER_TOO_DEEP', '%s returned JSON text nested more deeply than Python can read; nothing was sent' % entry, file)
    return result


def at_return(failure, where):
    """A failure about what the entry point returned (not JSON, too large, too deep) that names no line, put on the
    `return` that produced it (where: returns.locate's answer), so that it says where as well as what."""
    if failure.line is None and where is not None and where[1] is not None:
        failure.file = where[0]
        failure.line = where[1]
        if not where[2]:
            failure.message = '%s (the def line: Python %d.%d cannot tell which return gave it)' % (
                failure.message, sys.version_info[0], sys.version_info[1])
    return failure


def vet(instance, hook, result, file, loop=None, trace=False):
    """
    Runs the component's validate_order (validation.py) on the order in result and returns the
    milliseconds it took, or raises the ComponentFailure that stops the order (its elapsed_ms
    set). Only a dict is shown to it: anything else is refused by SPtrader's own validation with
    a message per field. An `async def validate_order` is awaited on the worker's event loop
    (awaiting.py), as the entry point is.
    """
    order = result
    if isinstance(order, dict) and order.get('type') == 'order_request' and 'order' in order:
        order = order['order']
    if not isinstance(order, dict):
        return 0.0
    started = time.perf_counter()
    # One run (trace): the return that vetoed is recorded as it happens (returns.trace_code), whatever it returned.
    untrace = returns.trace_code(hook.code) if trace else None
    try:
        verdict = instance.validate_order(order)
        if loop is not None and verdict is not None and verdict is not True and verdict is not False:
            verdict = loop.settle(verdict, type(instance), 'validate_order', file)
    except watchdog.RecordTimeout:
        raise
    except BaseException as e:
        if untrace is not None:
            untrace = untrace()
        failure = validate_failure(e, hook, type(instance).__name__, file)
        failure.elapsed_ms = (time.perf_counter() - started) * 1000
        raise failure
    finally:
        if untrace is not None:
            untrace()
        processes.leave_if_forked()
    elapsed = (time.perf_counter() - started) * 1000
    if verdict is None or verdict is True:
        return elapsed
    try:
        validation.judge(verdict, hook, type(instance).__name__, file, returns.traced_line() if trace else None)
    except ComponentFailure as f:
        f.elapsed_ms = elapsed
        raise
    return elapsed


def validate_failure(exc, hook, class_name, file):
    """What validate_order raised, as the ComponentFailure that stops the order (with the line it was raised at)."""
    where = hook.file or file
    if isinstance(exc, (SystemExit, KeyboardInterrupt, processes.ComponentExit)):
        return component_failure(exc, 'validate_order', where, 'in')
    line, text = component_frame(sys.exc_info()[2], where)
    if line is None and where != file:
        line, text = component_frame(sys.exc_info()[2], file)
        where = file
    return ComponentFailure('COMPONENT_ERROR', '%s raised in %s.validate_order at line %s; the order was stopped and nothing was sent'
                            % (describe(exc), class_name, line), where, line, text)


class Server(object):
    def __init__(self, proto_in, proto_out):
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.modules = {}  # file -> (key, module)
        self.inspected = {}  # file -> (key, result): parsing is the costly part of a warm Test Order
        self.instances = {}  # run_batch instance key -> (module, class, parameters JSON, instance)
        self.metadata = {}  # file -> ((module, __metadata__, limits), its JSON value or the ComponentFailure it raised)
        self.answered = None  # the id of a run answered before its end (a component that swallowed its time limit)
        # The warnings filters each component module set for itself (warnings.simplefilter('error') at import), put back
        # for its own later runs and kept from every other component's (restore_process_state).
        self.module_warnings = weakref.WeakKeyDictionary()
        self.running = None  # the module the current run loaded
        self.own_pids = []  # processes the current run started for itself (Debug Order's debug adapter)
        self.awaiting = awaiting.EventLoop()  # async def entry points: the worker's one event loop, made when first needed
        self.fresh = freshness.Freshness()  # the user's modules components import, dropped when one of them changes
        self.siblings = siblings.Siblings()  # the component's folder on sys.path for its run, as `python file.py` has it
        self.logs = logstate.Logs()  # logging as a fresh process has it at each run's start (logstate.py)

    def serve(self):
        readline = self.proto_in.readline
        while True:
            try:
                raw = readline()
            except KeyboardInterrupt:
                # A SIGINT a component sent itself can land here, between requests; it is not ours to stop on.
                continue
            if not raw:
                return
            try:
                request = _decode(raw.decode('utf-8'))
                if not isinstance(request, dict):
                    raise ValueError('not an object')
            except ValueError as e:
                self.send({'id': None, 'ok': False, 'error': {'code': 'PROTOCOL_ERROR', 'message': 'bad request line: %s' % e}})
                continue
            response = self.handle(request)
            if self.answered is not None and self.answered == request.get('id'):
                continue  # answered from the watchdog's handler (Server.run's stuck), which SPtrader took as the run's
            if request.get('op') in ('run', 'run_batch'):
                mark_output(request.get('id'))
            self.send(response)

    def send(self, response):
        # A process the component forked without exec can come back through harness code: it must not answer.
        if not processes.in_harness():
            processes.leave_if_forked()
        try:
            text = answer_text(response, _encode_answer)
        except (TypeError, ValueError) as e:
            text = _encode_item({'id': response.get('id'), 'ok': False, 'error': {'code': 'INTERNAL', 'message': 'the harness could not encode its answer: %s' % e}})
        self.proto_out.write(b'\n' + text.encode('ascii') + b'\n')
        self.proto_out.flush()

    def handle(self, request):
        rid = request.get('id')
        op = request.get('op')
        kept = process_state() if op in ('run', 'run_batch') else None
        if op in ('run', 'run_batch'):
            self.siblings.enter(request.get('file'))
            self.logs.begin()
            modules_before = dict(sys.modules)
        try:
            try:
                if op == 'ping':
                    return {'id': rid, 'ok': True, 'python': list(sys.version_info[:3]), 'executable': sys.executable}
                if op == 'inspect':
                    response = {'id': rid, 'ok': True}
                    response.update(self.inspect(self.check_file(request.get('file')), Limits(request.get('limits'))))
                    return response
                if op == 'run':
                    threads = live_threads()
                    response = self.run(rid, request)
                    if not isinstance(request.get('debug'), dict):
                        left_threads(response, threads)
                elif op == 'run_batch':
                    response = self.run_batch(rid, request)
                else:
                    return {'id': rid, 'ok': False, 'error': {'code': 'PROTOCOL_ERROR', 'message': 'unknown op %r' % (op,)}}
            except ComponentFailure as f:
                # 'result' as every run's answer has it (SPtrader's reader requires the key): a file not found says so.
                response = {'id': rid, 'ok': False, 'result': None, 'stdout': '', 'stderr': '', 'error': failure_json(f)}
            if op in ('run', 'run_batch'):
                self.siblings.leave()
                restored = siblings.put_back_library(modules_before)
                if restored and isinstance(response.get('stderr'), str):
                    response['stderr'] += ('[sptrader] the component replaced %s in sys.modules; put back for the next run (a '
                                           'run in a warm worker must leave the standard library as it found it)\n'
                                           % ', '.join("'%s'" % n for n in sorted(restored)[:10]))
                self.fresh.scan()
                self.logs.end(lambda: new_user_modules(modules_before), self.instances)
                self.keep_warnings(kept)
                restore_process_state(kept)
                restore_builtins()
                own, self.own_pids = self.own_pids, []
                killed, recycle = processes.end_run(expected=own)
                if killed:
                    response['killed_processes'] = killed[:50]
                    response['killed_count'] = len(killed)
                if recycle:
                    response['recycle'] = True
            return response
        except BaseException as e:
            # A signal the component sent itself (KeyboardInterrupt) or a fault of ours: an answer, never a dead worker.
            self.siblings.leave()
            return {'id': rid, 'ok': False, 'stdout': '', 'stderr': '',
                    'error': {'code': 'INTERNAL', 'message': ('the harness failed while serving %s: %s' % (op, describe(e)))[:MAX_MESSAGE_CHARS]}}

    def own_warnings(self, module):
        """After a run's load: the warnings filters its module set in an earlier run (at its import) in place again, as
        they are for the whole life of `python file.py`; a module just loaded set its own."""
        self.running = module
        self.logs.enter(module)
        try:
            filters = self.module_warnings.get(module)
        except TypeError:
            filters = None
        if filters is not None:
            set_warning_filters(filters)
        # Each run shows its warnings as a fresh `python file.py` would: the 'default' action's record of locations that
        # already warned (each module's __warningregistry__) is dropped when the filters' version moves.
        mutated = getattr(stdlib.load('warnings'), '_filters_mutated', None)
        if mutated is not None:
            mutated()

    def keep_warnings(self, kept):
        """At a run's end: the filters it leaves, kept for its module's next run when they differ from the process's."""
        module, self.running = self.running, None
        if module is None:
            return
        try:
            now = list(stdlib.load('warnings').filters)
            if now != kept[2]:
                self.module_warnings[module] = now
            else:
                self.module_warnings.pop(module, None)
        except Exception:
            pass

    def check_file(self, file):
        if not isinstance(file, str) or not file:
            raise ComponentFailure('PROTOCOL_ERROR', 'the request names no file')
        file = os.path.abspath(file)
        if not file.endswith('.py'):
            raise ComponentFailure('NOT_PYTHON_FILE', '%s is not a Python file (.py)' % file, file)
        if not os.path.isfile(file):
            raise ComponentFailure('FILE_NOT_FOUND', '%s does not exist' % file, file)
        return file

    def inspect(self, file, limits):
        st = os.stat(file)
        key = (st.st_mtime_ns, st.st_size, limits.metadata_bytes, limits.depth)
        cached = self.inspected.get(file)
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        result = self.inspect_uncached(file, limits)
        self.inspected[file] = (key, result)
        return dict(result)

    def inspect_uncached(self, file, limits):
        ast = stdlib.load('ast')
        with open(file, 'rb') as f:
            source = f.read()
        check_source_bytes(source, file)
        try:
            tree = ast.parse(source, file)
        except SyntaxError as e:
            raise syntax_failure(e, file)
        except (RecursionError, MemoryError) as e:
            raise ComponentFailure('SYNTAX_ERROR', '%s is nested too deeply for Python to parse (%s)' % (file, type(e).__name__), file)
        text = source.decode('utf-8', 'replace') if hasattr(ast, 'get_source_segment') else None
        classes = []
        derived = {}  # class name -> (entry point, abstract methods left undefined), for the classes below it
        metadata = None
        metadata_error = None
        metadata_version = None
        metadata_line = None
        risk_limits_lines = None
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                if len(classes) >= MAX_CLASSES:
                    continue
                functions = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
                methods = set(n.name for n in functions)
                bases = [(ast.get_source_segment(text, b) or '')[:200] for b in node.bases] if text is not None else []
                # A class above in this file that it derives from hands down its entry point and the abstract methods
                # it left undefined (a leaf under an intermediate class is the component, the intermediate is not).
                above = [derived[n] for n in (base_name(b) for b in node.bases) if n in derived]
                abstract = set(n.name for n in functions if any(base_name(d) == 'abstractmethod' for d in n.decorator_list))
                for _, left in above:
                    abstract.update(left - methods)
                entry = None
                if 'generate_order' in methods or any(b.endswith('OrderBase') for b in bases) or any(e == 'generate_order' for e, _ in above):
                    entry = 'generate_order'
                elif 'execute' in methods or any(b == 'Order' or b.endswith('.Order') for b in bases) or any(e == 'execute' for e, _ in above):
                    entry = 'execute'
                if entry is not None:
                    if any(n.name == entry and habits.raises_not_implemented(ast, n) for n in functions):
                        abstract.add(entry)  # a base whose entry point only raises NotImplementedError, as the run sees it
                    derived[node.name] = (entry, abstract)
                classes.append({'name': node.name, 'line': node.lineno, 'bases': bases, 'entry_point': None if abstract else entry})
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)) or (
                    isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name)):
                # `__metadata__ = {...}`, or annotated: `__metadata__: Dict[str, Any] = {...}`
                name = node.targets[0].id if isinstance(node, ast.Assign) else node.target.id
                if name == '__metadata__':
                    # Where its risk_limits are written, so that a malformed one is said at its line.
                    metadata_line = node.lineno
                    risk_limits_lines = limit_lines(ast, node.value)
                if name in ('__metadata__', '__metadata_version__'):
                    try:
                        literal = metadata_literal(ast, node.value)
                    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError) as e:
                        if name == '__metadata__':
                            metadata_error = '__metadata__ at line %d is not a literal: %s' % (node.lineno, str(e)[:500])
                        continue
                    try:
                        value = safe_json(literal, name, limits.metadata(file))
                    except ComponentFailure as f:
                        if f.code != 'NOT_SERIALIZABLE':
                            f.line = node.lineno
                            raise
                        if name == '__metadata__':
                            metadata_error = '__metadata__ at line %d: %s' % (node.lineno, f.message)
                        continue
                    if name == '__metadata__':
                        metadata = value if isinstance(value, dict) else None
                    else:
                        metadata_version = value
        # A base whose hook for its subclasses only raises NotImplementedError (a template method) is not run either.
        templates = habits.template_bases(ast, [n for n in tree.body if isinstance(n, ast.ClassDef)][:MAX_CLASSES])
        for c in classes:
            if c['name'] in templates:
                c['entry_point'] = None
        return {'classes': classes, 'metadata': metadata, 'metadata_error': metadata_error, 'metadata_version': metadata_version,
                'metadata_line': metadata_line, 'risk_limits_lines': risk_limits_lines}

    def load(self, file):
        if self.fresh.stale():
            # A helper changed: every component that imported the old one is compiled afresh.
            self.modules.clear()
            self.siblings.forget()
        st = os.stat(file)
        key = (st.st_mtime_ns, st.st_size)
        cached = self.modules.get(file)
        if cached is not None and cached[0] == key:
            return cached[1]
        with open(file, 'rb') as f:
            source = f.read()
        check_source_bytes(source, file)
        try:
            code = compile(source, file, 'exec', dont_inherit=True)
        except SyntaxError as e:
            raise syntax_failure(e, file)
        key_name = 'sptrader_component_%x' % (abs(hash(file)),)
        # The module is named as the trader knows it, by its file's stem (its logger's name, its classes' __module__),
        # unless that name is another module's: then the private one it is kept under.
        name = own_name(file) or key_name
        module = types.ModuleType(name)
        module.__file__ = file
        module.__sptrader_component__ = key_name
        package = package_of(file)
        if package is not None:
            # `from .helpers import size` resolves against the component's own package, as when Python imports it.
            module.__package__ = package
        sys.modules[key_name] = module
        if name != key_name:
            # Found by its own name too (pickle, typing's forward references, a helper's `import my_order`): the
            # component's own module rather than a second copy of its file. siblings.py sets it aside with the
            # other modules of its folder while another folder's component runs.
            sys.modules[name] = module
        qualified = packaged.qualified_name(package, file)
        loaded = False
        try:
            adopted = packaged.loaded_by_package(package, qualified, file) if qualified is not None else None
            if adopted is None:
                exec(code, module.__dict__)
                packaged.known_by_package(qualified, module)
            else:
                # Its package's __init__ imported it (Python's import of <package>.<stem>): that module, not a second run.
                if sys.modules.get(name) is module:
                    sys.modules[name] = adopted
                sys.modules[key_name] = adopted
                adopted.__sptrader_component__ = key_name
                module = adopted
            loaded = True
        except SyntaxError as e:
            # Not the component's own source (compiled above): a module it imports. Said at that module's line.
            line, text = component_frame(sys.exc_info()[2], file)
            raise imported_syntax_failure(e, file, line, text, sys.exc_info()[2])
        except ImportError as e:
            line, text = component_frame(sys.exc_info()[2], file)
            raise ComponentFailure('IMPORT_ERROR', import_failure(e, file, line, sys.exc_info()[2]), file, line, text)
        except SystemExit as e:
            line, text = component_frame(sys.exc_info()[2], file)
            raise ComponentFailure('COMPONENT_EXIT', 'the component %s while loading%s; components must return, not exit '
                                   '(code under `if __name__ == \'__main__\':` does not run here)'
                                   % (exit_call(e, sys.exc_info()[2]), ' at line %s' % line if line is not None else ''), file, line, text)
        except processes.ComponentExit as e:
            raise component_failure(e, 'loading', file, 'while')
        except watchdog.RecordTimeout:
            raise
        except BaseException as e:
            line, text = component_frame(sys.exc_info()[2], file)
            if nulsource.names_nul_source(e):
                # Before Python 3.11.4 a NUL byte in an imported module's source was a ValueError, not a SyntaxError.
                raise imported_syntax_failure(e, file, line, text, sys.exc_info()[2])
            raise ComponentFailure('IMPORT_ERROR', 'loading the component raised %s%s%s' % (
                describe(e), raised_elsewhere(sys.exc_info()[2], file), beside_component(e, file)), file, line, text)
        finally:
            processes.leave_if_forked()
            if not loaded and name != key_name and sys.modules.get(name) is module:
                # As Python's own import does: a module that failed to load is not left for `import <name>` to find.
                del sys.modules[name]
        self.modules[file] = (key, module)
        self.logs.loaded_module(module)
        return module

    def find_class(self, module, file, class_name):
        candidates = []
        abstract = []
        imported = []
        for value in list(vars(module).values()):
            if not isinstance(value, type):
                continue
            if value.__module__ != module.__name__:
                if not getattr(value, '__abstractmethods__', None) and any(b.__name__ in ('OrderBase', 'Order') for b in value.__mro__[1:]):
                    imported.append(value)
                continue
            if getattr(value, '__abstractmethods__', None):
                abstract.append(value)
                continue
            if callable(getattr(value, 'generate_order', None)) or callable(getattr(value, 'execute', None)):
                candidates.append(value)
        if class_name:
            for c in candidates:
                if c.__name__ == class_name:
                    return c
            why = ['%s is abstract: it does not define %s' % (c.__name__, ', '.join(sorted(c.__abstractmethods__)))
                   for c in abstract if c.__name__ == class_name]
            raise ComponentFailure('CLASS_NOT_FOUND', 'no order component class named %s in %s%s; available: %s'
                                   % (class_name, file, ' (%s)' % why[0] if why else '',
                                      ', '.join(c.__name__ for c in candidates) or 'none'), file,
                                   class_lines(file, [class_name]).get(class_name) if why else None)
        if not candidates:
            not_method = self.entry_not_a_method(module, file)
            if not_method is not None:
                raise not_method
            # A class deriving the base that left an abstract method undefined (a misspelt generate_order) is named.
            derived_abstract = [c for c in abstract if any(b.__name__ in ('OrderBase', 'Order') for b in c.__mro__[1:])]
            unfinished = ['%s (it does not define %s%s)' % (c.__name__, ', '.join(sorted(c.__abstractmethods__)), meant_entry(c, file))
                          for c in derived_abstract]
            lines = class_lines(file, [c.__name__ for c in derived_abstract[:1]])
            # One imported from another module is that module's component: its file is the one to run.
            elsewhere = ['%s (from %s)' % (c.__name__, c.__module__) for c in imported]
            # An entry point written as a module-level function (a script's habit) is said at its def.
            loose = [f for f in (vars(module).get(n) for n in ('generate_order', 'execute'))
                     if getattr(getattr(f, '__code__', None), 'co_filename', None) == file][:1]
            loose_line = loose[0].__code__.co_firstlineno if loose else None
            raise ComponentFailure('NO_COMPONENT_CLASS', 'no order component class in %s: define a class with generate_order(market_data, signal) '
                                   '(deriving OrderBase) or execute(market_state) (deriving Order)%s%s%s'
                                   % (file, '; abstract, so not one: ' + ', '.join(unfinished[:5]) if unfinished else '',
                                      '; imported classes are not this file\'s components: run the file that defines %s, or derive '
                                      'a class from it here' % ', '.join(elsewhere[:5]) if elsewhere else '',
                                      '; %s at line %d is a module-level function, not a method: put it in a class, e.g. '
                                      '`class MyOrder(OrderBase):` with `def %s(self, %s)` (from core.orders.order_base import OrderBase)'
                                      % (loose[0].__name__, loose_line, loose[0].__name__,
                                         'market_data, signal=None' if loose[0].__name__ == 'generate_order' else 'market_state')
                                      if loose else ''), file,
                                   lines.get(derived_abstract[0].__name__) if derived_abstract else loose_line)
        if len(candidates) > 1:
            # A class deriving the contract's base (OrderBase or Order) is the component; a helper class that
            # happens to have an execute or generate_order method is not.
            derived = [c for c in candidates if any(b.__name__ in ('OrderBase', 'Order') for b in c.__mro__[1:])]
            if len(derived) == 1:
                return derived[0]
            several = derived or candidates
            # A base whose entry point only raises NotImplementedError is meant to be derived, not run.
            several = [c for c in several if not habits.left_to_subclasses(c, file, several)] or several
            if len(several) == 1:
                return several[0]
            lines = class_lines(file, [c.__name__ for c in several])
            several = sorted(several, key=lambda c: (lines.get(c.__name__) or 0, c.__name__))
            names = ', '.join('%s (line %s)' % (c.__name__, lines[c.__name__]) if lines.get(c.__name__) else c.__name__ for c in several)
            first = lines.get(several[0].__name__)
            raise ComponentFailure('AMBIGUOUS_COMPONENT_CLASS', '%s defines several order components (%s) and none is chosen: run one '
                                   'with --class NAME (in the editor, the CodeLens above its class)%s'
                                   % (file, names, inheritance_note(several)), file, first)
        return candidates[0]

    @staticmethod
    def entry_not_a_method(module, file):
        """A ComponentFailure for a class of the file whose generate_order or execute is not a method (a @property, an
        order dict assigned to the name, None), said at that class; else None."""
        for value in list(vars(module).values()):
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            for entry in ('generate_order', 'execute'):
                held = value.__dict__.get(entry, None)
                if entry not in value.__dict__ or callable(held) or isinstance(held, (staticmethod, classmethod)):
                    continue
                kind = 'a property' if isinstance(held, property) else 'None' if held is None else 'a %s' % type(held).__name__
                return ComponentFailure('NO_COMPONENT_CLASS', '%s.%s is %s, not a method, so SPtrader cannot call it: define it as '
                                        '`def %s(self, %s):` returning the order' % (
                                            value.__name__, entry, kind, entry,
                                            'market_data, signal=None' if entry == 'generate_order' else 'market_state'),
                                        file, assignment_line_in_class(file, value.__name__, entry) or class_line(value, file))
        return None

    def run(self, rid, request):
        file = self.check_file(request.get('file'))
        limits = Limits(request.get('limits'))
        limit = int(request.get('output_limit') or 1048576)
        shared = [0, 0, None]
        out = Capture(limit, shared)
        err = Capture(limit, shared)
        out.stop_at_limit = err.stop_at_limit = True
        real_out, real_err, real_in = sys.stdout, sys.stderr, sys.stdin
        capture(out, err)
        response = {'id': rid, 'ok': False, 'result': None, 'class_name': None, 'entry_point': None, 'metadata': None, 'error': None}
        hook = None
        started = time.perf_counter()
        debug = request.get('debug')
        # The run's time limit, stopped where the component is (watchdog.py) so the answer can say where; SPtrader's
        # own timeout of the request is the backstop. Not while a debugger may hold the run at a breakpoint.
        timeout_ms = _positive(request.get('timeout_ms'), None)
        stage = 'loading the component'
        entry = None

        def timed_out(line, text):
            return failure_json(ComponentFailure(
                'TIMEOUT', '%s did not %s within %s s; its process tree was stopped and nothing was sent%s'
                % (stage, 'return' if stage == entry or stage.endswith('validate_order') else 'finish',
                   '{:g}'.format(timeout_ms / 1000.0), '' if line is None else ' (it was running line %d)' % line),
                file, line, text))

        def stuck(frame, index):
            # The component swallows the watchdog's RecordTimeout: answered now, from the signal handler, as the except
            # below would; SPtrader ends the process on `recycle`, while the component's loop goes on until then.
            line = frame_line(frame, file)
            response.update({'result': None, 'error': timed_out(line, None), 'recycle': True,
                             'stdout': out.getvalue(), 'stderr': err.getvalue()})
            response['error']['message'] += ('. The component caught the stop each time it came%s: catch Exception instead'
                                              % swallowed_by(frame, file))
            mark_output(rid)
            self.send(response)
            self.answered = rid

        alarm = watchdog.start_run(timeout_ms / 1000.0, stuck) if timeout_ms and not isinstance(debug, dict) else None
        try:
            if isinstance(debug, dict):
                # Before loading: the debugger's breakpoints are set when the component's code first runs.
                debugging.start(debug, lambda endpoint: self.send({'id': rid, 'debug': endpoint}), self.own_pids)
                started = time.perf_counter()
            module = self.load(file)
            self.own_warnings(module)
            response['load_ms'] = (time.perf_counter() - started) * 1000
            cls, entry, params = self.resolve(module, file, request, response, limits)
            stage = 'creating %s' % cls.__name__
            instance = self.instantiate(cls, entry, params, file)
            stage = entry
            market_data = request.get('market_data') or {}
            signal = request.get('signal')
            hook = validation.hook_for(cls, entry)
            plan = returns.plan_for_class(cls, entry)
            returns.before_call(plan)
            processes.take_thread_exit()
            self.awaiting.stopped_at = []
            call_started = time.perf_counter()
            untrace = returns.trace_call(plan)
            try:
                if entry == 'generate_order':
                    result = call_generate(instance, cls, market_data, signal)
                else:
                    result = call_execute(instance, execute_style(cls), dict(market_data), signal)
                if result is not None and result.__class__ is not dict:
                    result = self.awaiting.settle(result, cls, entry, file)
            except watchdog.RecordTimeout:
                raise
            except BaseException as e:
                if untrace is not None:
                    untrace = untrace()
                raise component_failure(e, entry, file, market_data=market_data, instance=instance, signal=signal)
            finally:
                if untrace is not None:
                    untrace()
                processes.leave_if_forked()
                response['component_ms'] = (time.perf_counter() - call_started) * 1000
                restore_builtins()
            thread_exit = processes.take_thread_exit()
            if thread_exit is not None:
                raise thread_exit_failure(thread_exit, entry, file)
            try:
                result = parse_result(result, entry, file, limits)
            except ComponentFailure as f:
                raise at_return(f, returns.locate(plan, result))
            if result is None and plan is not None and plan.silent:
                # No return in it gives a value (a forgotten `return order`): said, as None alone means "no order".
                response['no_return_line'] = plan.def_line
            if result is not None:
                # Where the order was returned, for SPtrader's own validation to point at (returns.py).
                where = returns.locate(plan, result)
                if where is not None and where[1] is not None:
                    response['return_line'] = where[1]
                    if where[0] != file:
                        response['return_file'] = where[0]
                    if not where[2]:
                        response['return_exact'] = False
            if result is not None and hook is not None and hook.call:
                stage = '%s.validate_order' % cls.__name__
                try:
                    response['component_ms'] += vet(instance, hook, result, file, self.awaiting, trace=True)
                except ComponentFailure as f:
                    response['component_ms'] += getattr(f, 'elapsed_ms', 0.0)
                    raise
            try:
                budget = limits.answer(entry, file)
                response['result'] = safe_json(result, 'order', budget)
                if budget.narrowed:
                    response['narrow_floats'] = budget.narrowed
            except ComponentFailure as f:
                raise at_return(f, returns.locate(plan, result))
            response['ok'] = True
            watchdog.watch.index = -1
        except ComponentFailure as f:
            watchdog.watch.index = -1
            response['error'] = failure_json(f)
        except watchdog.RecordTimeout:
            watchdog.watch.index = -1
            line, text = timeout_frame(sys.exc_info()[2], file, self.awaiting)
            response['result'] = None
            response['error'] = timed_out(line, text)
            # Cut off mid-call: the next run gets a fresh interpreter, as after SPtrader's own timeout.
            response['recycle'] = True
        except OutputLimitReached:
            # Stopped at the print that passed the limit, wherever that was: said as OUTPUT_LIMIT_EXCEEDED below.
            watchdog.watch.index = -1
            response['result'] = None
        finally:
            out.stop_at_limit = err.stop_at_limit = False
            if alarm is not None:
                watchdog.stop(alarm)
            if isinstance(debug, dict):
                debugging.finish(self.own_pids)
            release(real_out, real_err, real_in)
        if hook is not None and hook.note:
            err.write('[sptrader] %s\n' % hook.note)
        if shared[0] > limit:
            # The component's line whose print passed the limit (the innermost frame in its file), when there is one.
            line = printed_at(shared, file)
            response['ok'] = False
            response['result'] = None
            response['error'] = {'code': 'OUTPUT_LIMIT_EXCEEDED', 'file': file, 'line': line,
                                 'message': 'the component printed %s bytes, more than the limit of %s%s, and was stopped there; nothing '
                                 'was sent (print less, or raise the output limit)'
                                 % ('{:,}'.format(shared[0]), '{:,}'.format(limit),
                                    '' if line is None else ' (the print at line %d passed it)' % line)}
        response['stdout'] = out.getvalue()
        response['stderr'] = err.getvalue()
        return response

    def run_batch(self, rid, request):
        """
        Runs one component over many market_data dicts in one round trip (replay). Request keys:
        file, class_name, parameters, signal, output_limit, limits as for `run`; `common` (a dict under every
        item), `keys` and `rows` (item i is dict(common) updated with zip(keys, rows[i]); or `columns` and
        `size`, the same values key by key, numbers as float64 bytes: batch_columns.py),
        and market_data[index_key] = index_start + i when `index_key` is given),
        `stop_on_order` (stop after the first item that returned an order, so the caller can act on
        it before the next item runs), `failure_run` (end after the record that makes a run of the same
        failure this long: batch_stops.py), `instance` (a key: the component instance is kept across
        batches under it while the file, class and parameters stay the same; None: a fresh instance
        per batch). Answer: `done` items run; `results` only for items that returned something or
        raised ({index, ok, result} or {index, ok: false, error}); a failure to load or construct the
        component fails the whole batch (ok false, error), like `run`. Each result is held to the
        answer limit, and all of them together to BATCH_ANSWER_FACTOR times it.
        """
        file = self.check_file(request.get('file'))
        limits = Limits(request.get('limits'))
        limit = int(request.get('output_limit') or 1048576)
        shared = [0, 0, None]
        out = Capture(limit, shared)
        err = Capture(limit, shared)
        real_out, real_err, real_in = sys.stdout, sys.stderr, sys.stdin
        capture(out, err)
        response = {'id': rid, 'ok': False, 'class_name': None, 'entry_point': None, 'metadata': None, 'error': None,
                    'done': 0, 'results': [], 'component_ms': 0.0}
        hook = None
        alarm = None
        try:
            # Loading and creating the component are held to a record's time limit, as in a Test Order run: one that
            # never finishes is said at its line, not after the batch's backstop as stuck in native code.
            record_limit = _positive(request.get('record_timeout_ms'), None)
            stage = 'loading the component'
            setup = watchdog.start_run(record_limit / 1000.0) if record_limit else None
            try:
                module = self.load(file)
                self.own_warnings(module)
                cls, entry, params = self.resolve(module, file, request, response, limits)
                key = request.get('instance')
                params_key = _encode_key(params)
                kept = self.instances.get(key) if key else None
                if kept is not None and kept[0] is module and kept[1] is cls and kept[2] == params_key:
                    instance = kept[3]
                    self.logs.resume(key)
                else:
                    stage = 'creating %s' % cls.__name__
                    instance = self.instantiate(cls, entry, params, file)
                    if key:
                        self.logs.keep_for(key)
                        self.instances.pop(key, None)
                        while len(self.instances) >= 16:
                            self.instances.pop(next(iter(self.instances)))
                        self.instances[key] = (module, cls, params_key, instance)
            except watchdog.RecordTimeout:
                line, text = component_frame(sys.exc_info()[2], file)
                # Cut off mid-call: the next batch gets a fresh interpreter.
                response['recycle'] = True
                raise ComponentFailure('TIMEOUT', '%s did not finish within %s s; its process tree was stopped and nothing was sent%s'
                                       % (stage, '{:g}'.format(record_limit / 1000.0),
                                          '' if line is None else ' (it was running line %d)' % line), file, line, text)
            finally:
                if setup is not None:
                    watchdog.stop(setup)
            common = request.get('common') or {}
            keys = request.get('keys') or []
            try:
                rows, size, uniform = batch_rows(request, keys)
            except (ColumnError, ValueError, IndexError, TypeError) as e:
                raise ComponentFailure('PROTOCOL_ERROR', 'malformed batch: %s' % e, file)
            signal = request.get('signal')
            # Each record gets the signal as the user gave it, as each Test Order run does: a component that pops or
            # appends to its signal must not hand the next record a changed one (read again from its JSON, ~1 µs).
            signal_text = None if signal is None else _encode_item(signal)
            stop_on_order = bool(request.get('stop_on_order'))
            index_key = request.get('index_key')
            index_start = int(request.get('index_start') or 0)
            results = response['results']
            total_left = BATCH_ANSWER_FACTOR * limits.answer_bytes
            hook = validation.hook_for(cls, entry)
            vetting = hook is not None and hook.call
            state = StateSync(self, rid, request.get('state'), results, size) if request.get('state') is not None else None
            # Per record, what follows runs thousands of times a batch: what does not change within a batch is
            # looked up once (the signal style is cached per class anyway), and the fork check reads a page
            # instead of a system call (processes.arm_fork_check).
            style = signal_style(cls) if entry == 'generate_order' else execute_style(cls)
            # The `return` each order came from (its line in the component's file, when it can be told without
            # recording the call): a replay says an order it cannot send at that line, as Test Order does.
            plan = returns.plan_for_class(cls, entry, monitor=False)
            budget = limits.answer(entry, file)
            settle = self.awaiting.settle
            leave_if_forked = processes.leave_if_forked
            process_state = processes.STATE
            processes.take_thread_exit()
            self.awaiting.stopped_at = []
            getrefcount = sys.getrefcount
            processes.arm_fork_check()
            # Each record's market_data is a copy of a dict with its keys already in place, filled in: the same keys,
            # order and values as dict(common) updated with the row and the index, at half the cost. Only when every
            # row has a value for every key (columns always do; a short JSON row leaves its last keys out).
            template = None
            if uniform:
                template = dict(common)
                template.update(dict.fromkeys(keys))
                if index_key:
                    template[index_key] = None
            # A record's own time limit (watchdog.py), and the batch's: past `batch_ms` it ends after the record
            # that ran then, and the caller sends the rest as the next batch (the records and their order are the same).
            batch_ms = _positive(request.get('batch_ms'), None)
            clock = time.perf_counter
            # A record past the output limit is stopped at the print that passed it, and ends the batch before it.
            out.stop_at_limit = err.stop_at_limit = True
            failures = FailureRun(request.get('failure_run'))
            call_started = clock()
            deadline = call_started + batch_ms / 1000.0 if batch_ms else None
            def stuck(frame, index):
                # A record swallows the watchdog's RecordTimeout: the batch is answered now, from the signal handler, as
                # the RecordTimeout below would have it (the records before it; SPtrader ends the process on `recycle`).
                line = frame_line(frame, file)
                answer = dict(response, ok=True, done=index, recycle=True, stdout=out.getvalue(), stderr=err.getvalue(),
                              results=[r for r in results if r['index'] < index],
                              component_ms=(time.perf_counter() - call_started) * 1000)
                answer['stopped'] = dict(failure_json(ComponentFailure(
                    'TIMEOUT', '%s did not return within %s s on record %d%s; it was stopped there and nothing was sent for it. '
                    'The component caught the stop each time it came%s: catch Exception instead'
                    % (entry, '{:g}'.format(record_limit / 1000.0), index_start + index,
                       '' if line is None else ' (it was running line %d)' % line, swallowed_by(frame, file)),
                    file, line)), index=index)
                mark_output(rid)
                self.send(answer)
                self.answered = rid

            alarm = watchdog.start(record_limit / 1000.0, deadline, stuck) if record_limit else None
            watch = watchdog.watch
            timed = alarm is not None
            # Without the ticks (no SIGALRM to use), the budget is read from the clock once a record.
            clocked = deadline is not None and not timed
            if timed and template is not None and style == 'positional' and signal_text is None:
                # The common case (replay's): plain_records below, this loop without the branches it never takes.
                done = plain_records(rows, template, keys, index_key, index_start, state, instance, settle, cls, entry,
                                     file, shared, limit, results, response, record_limit, budget, plan, limits,
                                     stop_on_order, hook if vetting else None, self.awaiting, failures)
            else:
                done = 0
                fill = row_filler(template, keys) if template is not None else None
                for index, row in enumerate(rows):
                    if index and (watch.over if timed else clocked and clock() >= deadline):
                        break
                    if fill is not None:
                        market_data = fill(row)
                    else:
                        market_data = dict(common)
                        market_data.update(zip(keys, row))
                    if index_key:
                        market_data[index_key] = index_start + index
                    if state is not None:
                        market_data = state.market_data(market_data, index)
                    done = index + 1
                    result = None
                    printed = shared[1] = shared[0]
                    shared[2] = None
                    if signal_text is not None:
                        signal = _decode(signal_text)
                    try:
                        if timed:
                            watch.index = index
                        try:
                            # call_generate's dispatch, with the style looked up once per batch.
                            if style == 'positional':
                                result = instance.generate_order(market_data, signal)
                            elif style == 'execute' or style == 'execute_context':
                                result = call_execute(instance, style, market_data, signal)
                            elif style == 'keyword':
                                result = instance.generate_order(market_data, signal=signal)
                            elif style == 'keywords':
                                result = instance.generate_order(market_data=market_data, signal=signal)
                            else:
                                result = instance.generate_order(market_data)
                            if result is not None and result.__class__ is not dict:
                                result = settle(result, cls, entry, file)
                        finally:
                            if timed:
                                watch.index = -1
                            leave_if_forked()
                        if timed and watch.fired:
                            # It ran past its limit and swallowed the RecordTimeout: stopped all the same.
                            raise watchdog.RecordTimeout()
                        if shared[0] - printed > limit:
                            # It swallowed the OutputLimitReached of its print (a bare except): stopped all the same.
                            result = None
                            raise OutputLimitReached()
                        if result is None:
                            # after() acts only on a failed state request, or on a lazy market_data still pending that
                            # something besides this loop holds (here: the local and getrefcount's argument): StateSync.after.
                            if state is not None and (state.failed is not None or (
                                    market_data.__class__ is not dict and getrefcount(market_data) > 2)):
                                state.after(market_data, index)
                            continue
                        if type(result) is not dict:
                            result = parse_result(result, entry, file, limits)
                        if vetting and result is not None:
                            vet(instance, hook, result, file, self.awaiting)
                        if process_state.thread_exit is not None:
                            # A thread of the component called os._exit: the process would have ended before this order.
                            raise thread_exit_failure(processes.take_thread_exit(), entry, file)
                        item = order_item(index, result, budget, plan, file)
                        result = None
                        ordered = True
                        # The budget counted the result's JSON bytes; the item's own keys add under 40.
                        size = budget.limit - budget.left + 40
                    except StateSyncError:
                        raise
                    except watchdog.RecordTimeout:
                        # The batch ends before this record: what ran before it is answered, and the caller says where it
                        # stopped. The worker is replaced afterwards: the component was cut off mid-call.
                        line, text = timeout_frame(sys.exc_info()[2], file, self.awaiting)
                        done = index
                        response['stopped'] = dict(failure_json(ComponentFailure(
                            'TIMEOUT', '%s did not return within %s s on record %d%s; it was stopped there and nothing was sent for it'
                            % (entry, '{:g}'.format(record_limit / 1000.0), index_start + index,
                               '' if line is None else ' (it was running line %d)' % line), file, line, text)), index=index)
                        response['recycle'] = True
                        break
                    except BaseException as e:
                        failure = output_failure(shared, limit, index_start + index, file) if isinstance(e, OutputLimitReached) else \
                            component_failure(e, entry, file, market_data=market_data, instance=instance, signal=signal)
                        if failure.code in ENDS_REPLAY:
                            # The batch ends before this record, as after a timeout (batch_stops.py).
                            response['stopped'] = dict(failure_json(failure), index=index)
                            done = index
                            break
                        if isinstance(e, ComponentFailure) and result is not None:
                            # What it returned could not be sent: said at its `return` (nothing is recorded in a batch).
                            failure = at_return(failure, returns.locate_static(plan, result))
                        item = {'index': index, 'ok': False, 'error': failure_json(failure)}
                        size = len(_encode_item(item))
                        ordered = False
                    if state is not None:
                        # StateSync.after, whose only work for a market_data nobody else holds is to end the column.
                        if state.failed is not None or (market_data.__class__ is not dict and getrefcount(market_data) > 2):
                            state.after(market_data, index, ordered)
                        elif ordered:
                            state.clean = False
                    total_left -= size
                    if total_left < 0:
                        raise ComponentFailure('ANSWER_TOO_LARGE', 'the results of this batch are more than %s bytes as JSON by record %d; '
                                               'nothing was sent' % ('{:,}'.format(BATCH_ANSWER_FACTOR * limits.answer_bytes), index_start + index), file)
                    results.append(item)
                    if stop_on_order and ordered:
                        break
                    if not ordered and failures.ends_batch(index, item['error']):
                        break
            response['component_ms'] = (time.perf_counter() - call_started) * 1000
            response['done'] = done
            if state is not None:
                response['syncs'] = state.syncs
            response['ok'] = True
        except StateSyncError as e:
            response['results'] = []
            response['error'] = {'code': 'PROTOCOL_ERROR' if e.protocol else 'ABORTED', 'message': str(e), 'file': file}
        except ComponentFailure as f:
            response['results'] = []
            response['error'] = failure_json(f)
        finally:
            out.stop_at_limit = err.stop_at_limit = False
            if alarm is not None:
                watchdog.stop(alarm)
            release(real_out, real_err, real_in)
        if hook is not None and hook.note:
            err.write('[sptrader] %s\n' % hook.note)
        if shared[0] > limit:
            # Each record is held to the limit (above); what the batch printed is kept up to it.
            err.parts.append('[sptrader] the component printed %s bytes in this batch of records; what it printed before '
                             'passing the limit of %s bytes is kept (the print that passed it is not)\n'
                             % ('{:,}'.format(shared[0]), '{:,}'.format(limit)))
        response['stdout'] = out.getvalue()
        response['stderr'] = err.getvalue()
        return response

    def resolve(self, module, file, request, response, limits):
        """The component class, its entry point and its parameters (metadata defaults, then the request's);
        records metadata, class name and entry point in the response as it goes. Metadata past its
        size or depth limit fails the run; a value JSON cannot carry leaves out its key (metadata_values.py)."""
        meta = getattr(module, '__metadata__', None)
        if isinstance(meta, dict):
            response['metadata'] = self.metadata_json(module, meta, file, limits)
        cls = self.find_class(module, file, request.get('class_name'))
        response['class_name'] = cls.__name__
        entry = 'generate_order' if callable(getattr(cls, 'generate_order', None)) else 'execute'
        response['entry_point'] = entry
        params = {}
        given = request.get('parameters') or {}
        if isinstance(meta, dict) and isinstance(meta.get('parameters'), dict):
            for k, spec in meta['parameters'].items():
                # A declaration that cannot check a value, or a default its own declaration does not allow (a size
                # of 50000 under 'max': 5000): the run would get it unchecked, and size its order by it.
                problem = declaration_problem(spec)
                remedy = 'fix the declaration'
                if problem is None and isinstance(spec, dict) and spec.get('default') is not None and k not in given:
                    problem = parameter_problem(spec, spec['default'])
                    if problem is not None:
                        problem = 'its default %s breaks its own declaration: %s' % (short_repr(spec['default']), problem)
                        remedy = 'fix the default, or give the parameter a value that fits'
                if problem is not None:
                    raise ComponentFailure('INVALID_PARAMETER', "__metadata__['parameters'][%r]: %s; %s. Nothing was sent"
                                           % (k, problem, remedy), file, metadata_values.parameter_line(file, k))
                if isinstance(spec, dict) and 'default' in spec:
                    params[k] = spec['default']
        if given and isinstance(meta, dict) and isinstance(meta.get('parameters'), dict):
            for name, value in given.items():
                problem = parameter_problem(meta['parameters'].get(name), value)
                if problem is not None:
                    raise ComponentFailure('INVALID_PARAMETER', "the parameter %r is %s, which __metadata__['parameters'][%r] does not allow: %s; "
                                           'nothing was sent' % (name, short_repr(value), name, problem), file,
                                           metadata_values.parameter_line(file, name))
        params.update(given)
        init = getattr(cls, '__init__', None)
        declared = meta['parameters'] if isinstance(meta, dict) and isinstance(meta.get('parameters'), dict) else {}
        dropped, accepted = dropped_parameters(init, getattr(init, '__code__', None), entry, params, given, declared)
        if dropped:
            line = entry_definition(cls, '__init__', file, of_class=True)
            raise ComponentFailure('INVALID_PARAMETER', dropped_message(dropped, accepted, cls.__name__, line), file, line)
        return cls, entry, params

    def metadata_json(self, module, meta, file, limits):
        # Converted once per loaded module (and limits): walking a large __metadata__ on every warm run cost
        # more than the run. A component that rebinds __metadata__ is seen; one that edits it in place is not.
        key = (module, meta, limits.metadata_bytes, limits.depth)
        cached = self.metadata.get(file)
        if cached is None or cached[0] != key:
            notes = []
            try:
                # A value JSON cannot carry leaves out its key, said below (metadata_values.py).
                value, notes = metadata_values.readable(meta, lambda: limits.metadata(file), lambda: assignment_line(file, '__metadata__'))
            except ComponentFailure as f:
                if f.line is None and f.file == file:
                    # Said where the file assigns __metadata__ (its last module-level assignment), as inspect says it.
                    f.line = assignment_line(file, '__metadata__')
                value = f
            cached = (key, value, notes)
            self.metadata[file] = cached
        if isinstance(cached[1], ComponentFailure):
            raise cached[1]
        for note in cached[2]:
            sys.stderr.write('[sptrader] %s\n' % note)
        return cached[1]

    def instantiate(self, cls, entry, params, file):
        # The constructor's code object says what it accepts; the inspect module would cost ~3 ms to import.
        init = getattr(cls, '__init__', None)
        code = getattr(init, '__code__', None)
        try:
            style = constructor_style(init, code, entry, params)
            if style == 'config':
                return cls(params)
            if style == 'none':
                if params and init is object.__init__:
                    sys.stderr.write('[sptrader] %s has no __init__, so its parameters (%s) were not passed to it; define '
                                     '__init__(self, %s) to take them\n' % (cls.__name__, ', '.join(sorted(params)[:10]),
                                                                          ', '.join('%s=None' % k for k in sorted(params)[:3])))
                return cls()
            if code is not None and not code.co_flags & 0x08:
                accepted = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
                params = dict((k, v) for k, v in params.items() if k in accepted)
            return cls(**params)
        except SystemExit as e:
            line, text = component_frame(sys.exc_info()[2], file)
            raise ComponentFailure('COMPONENT_EXIT', 'the component %s in its constructor%s'
                                   % (exit_call(e, sys.exc_info()[2]), ' at line %s' % line if line is not None else ''), file, line, text)
        except processes.ComponentExit as e:
            raise component_failure(e, 'its constructor', file, 'in')
        except watchdog.RecordTimeout:
            raise
        except BaseException as e:
            line, text = component_frame(sys.exc_info()[2], file)
            if line is None and type(e) is TypeError:
                # Raised by the call itself (a required argument no parameter gives): said at the def of __init__.
                line = entry_definition(cls, '__init__', file, of_class=True)
            if line is None:
                # Raised in a base class's __init__ in another file (said in the message): the component's class line.
                line = class_line(cls, file)
            raise ComponentFailure('CONSTRUCTOR_ERROR', 'creating %s raised %s%s%s%s' % (
                cls.__name__, describe(e), raised_elsewhere(sys.exc_info()[2], file), missing_parameter(e, params, cls),
                beside_component(e, file)), file, line, text)
        finally:
            processes.leave_if_forked()


def order_item(index, result, budget, plan, file):
    """The answer item of a record that returned an order (both batch loops): `(index, text)` for a flat order,
    written as JSON once (safejson.flat_json), else the dict of a walked one; with the line of the return that made
    it when that is in the component's own file. The batch's one budget is full again for each item."""
    budget.left = budget.limit
    # An order is a flat dict of scalars: written as JSON and measured at once, else walked (safejson.py).
    flat = flat_json(result, budget) if type(result) is dict else None
    value = safe_json(result, 'order', budget) if flat is None else None
    where = returns.locate_static(plan, result)
    line = where[1] if where is not None and where[2] and where[0] == file else None
    if flat is not None:
        return (index, ORDER_ITEM % (index, flat, line) if line is not None else ORDER_ITEM_NO_LINE % (index, flat))
    item = {'index': index, 'ok': True, 'result': value}
    if line is not None:
        item['line'] = line
    return item


def plain_records(rows, template, keys, index_key, index_start, state, instance, settle, cls, entry, file, shared,
                  limit, results, response, record_limit, budget, plan, limits, stop_on_order, vetting, awaiting, failures):
    """
    run_batch's loop over its records for the common case, chosen once per batch: generate_order(market_data, signal)
    called positionally, no signal, the watchdog's ticks on, and every row complete (the template); `vetting` is the
    validate_order hook to vet each order with (on the worker's event loop, `awaiting`), or None. It is that loop, what
    happens on an order, an exception, a timeout or too much output as it is there, with these differences in how a
    record that returns None gets there, each for the same outcome at less cost:
     - market_data is filled by row_filler (batch_columns.py): the same keys, order and values;
     - StateSync.market_data is inlined, its column in locals (clean_column), read again after a record that answered
       an item (which may end the column) or made a state request (state.syncs counts them): a request, which alone
       sets a new column or `failed`, is made only by reading a lazy market_data (after() resolves one that is kept),
       so on a clean record after() has nothing to do and is not called;
     - the fork check reads the page itself (processes.fork_page) and calls leave_if_forked only when it would not
       return at once: no page, a page a component closed (ValueError) or one that does not read 1;
     - `result` and shared[2] (the print that passed the output limit) are None when a record starts without being
       set so: a record that returns None passed the output check, so nothing set shared[2], and the paths that can
       leave either set (an item, an error) clear them at their end;
     - it returns the records done where the loop would break.
    """
    watch = watchdog.watch
    fill = row_filler(template, keys)
    page = processes.fork_page()
    if page is None:
        page = b'\0'
    leave_if_forked = processes.leave_if_forked
    process_state = processes.STATE
    getrefcount = sys.getrefcount
    total_left = BATCH_ANSWER_FACTOR * limits.answer_bytes
    signal = None
    key = state.key if state is not None else None
    fetch = state.fetch if state is not None else None
    syncs = state.syncs if state is not None else 0
    upto, base, varying, values, fixed = clean_column(state)
    result = None
    index = -1
    for index, row in enumerate(rows):
        if index and watch.over:
            return index
        market_data = fill(row)
        if index_key:
            market_data[index_key] = index_start + index
        if index < upto:
            market_data[key] = values[index - base] if index < varying else fixed
        elif state is not None:
            # StateSync.market_data's lazy copy.
            market_data = LazyState(market_data)
            market_data._key = key
            market_data._fetch = fetch
            market_data._index = index
        printed = shared[1] = shared[0]
        try:
            watch.index = index
            try:
                result = instance.generate_order(market_data, signal)
                if result is not None and result.__class__ is not dict:
                    result = settle(result, cls, entry, file)
            finally:
                watch.index = -1
                try:
                    if page[0] != 1:
                        leave_if_forked()
                except ValueError:
                    leave_if_forked()
            if watch.fired:
                # It ran past its limit and swallowed the RecordTimeout: stopped all the same.
                raise watchdog.RecordTimeout()
            if shared[0] - printed > limit:
                # It swallowed the OutputLimitReached of its print (a bare except): stopped all the same.
                result = None
                raise OutputLimitReached()
            if result is None:
                if index < upto:
                    continue
                if state is not None:
                    # after() acts only on a failed state request, or on a lazy market_data still pending that
                    # something besides this loop holds (here: the local and getrefcount's argument): StateSync.after.
                    if state.failed is not None or (market_data.__class__ is not dict and getrefcount(market_data) > 2):
                        state.after(market_data, index)
                    if state.syncs != syncs:
                        syncs = state.syncs
                        upto, base, varying, values, fixed = clean_column(state)
                continue
            if type(result) is not dict:
                result = parse_result(result, entry, file, limits)
            if vetting is not None and result is not None:
                vet(instance, vetting, result, file, awaiting)
            if process_state.thread_exit is not None:
                # A thread of the component called os._exit: the process would have ended before this order.
                raise thread_exit_failure(processes.take_thread_exit(), entry, file)
            item = order_item(index, result, budget, plan, file)
            result = None
            ordered = True
            # The budget counted the result's JSON bytes; the item's own keys add under 40.
            size = budget.limit - budget.left + 40
        except StateSyncError:
            raise
        except watchdog.RecordTimeout:
            # The batch ends before this record: what ran before it is answered, and the caller says where it
            # stopped. The worker is replaced afterwards: the component was cut off mid-call.
            line, text = timeout_frame(sys.exc_info()[2], file, awaiting)
            response['stopped'] = dict(failure_json(ComponentFailure(
                'TIMEOUT', '%s did not return within %s s on record %d%s; it was stopped there and nothing was sent for it'
                % (entry, '{:g}'.format(record_limit / 1000.0), index_start + index,
                   '' if line is None else ' (it was running line %d)' % line), file, line, text)), index=index)
            response['recycle'] = True
            return index
        except BaseException as e:
            failure = output_failure(shared, limit, index_start + index, file) if isinstance(e, OutputLimitReached) else \
                component_failure(e, entry, file, market_data=market_data, instance=instance, signal=signal)
            if failure.code in ENDS_REPLAY:
                # The batch ends before this record, as after a timeout (batch_stops.py).
                response['stopped'] = dict(failure_json(failure), index=index)
                return index
            if isinstance(e, ComponentFailure) and result is not None:
                # What it returned could not be sent: said at its `return` (nothing is recorded in a batch).
                failure = at_return(failure, returns.locate_static(plan, result))
            item = {'index': index, 'ok': False, 'error': failure_json(failure)}
            size = len(_encode_item(item))
            result = None
            ordered = False
        shared[2] = None
        if state is not None:
            # StateSync.after, whose only work for a market_data nobody else holds is to end the column.
            if state.failed is not None or (market_data.__class__ is not dict and getrefcount(market_data) > 2):
                state.after(market_data, index, ordered)
            elif ordered:
                state.clean = False
            if upto != 0 or state.syncs != syncs:
                # The column ended here, or a state request set a new one (an ended column stays ended until one does).
                syncs = state.syncs
                upto, base, varying, values, fixed = clean_column(state)
        total_left -= size
        if total_left < 0:
            raise ComponentFailure('ANSWER_TOO_LARGE', 'the results of this batch are more than %s bytes as JSON by record %d; '
                                   'nothing was sent' % ('{:,}'.format(BATCH_ANSWER_FACTOR * limits.answer_bytes), index_start + index), file)
        results.append(item)
        if stop_on_order and ordered:
            return index + 1
        if not ordered and failures.ends_batch(index, item['error']):
            return index + 1
    return index + 1


def clean_column(state):
    """
    StateSync.market_data's clean path as values for plain_records: a record below `upto` gets values[index - base]
    below `varying`, else `fixed` (values[min(index - base, last)]); from `upto` on, StateSync.market_data's lazy
    copy (`upto` is 0 when the column has ended, -1 without a state key).
    """
    if state is None:
        return -1, 0, 0, None, None
    if not state.clean:
        return 0, 0, 0, None, None
    last = state.last
    return state.until, state.base, state.base + last, state.values, state.values[last] if last >= 0 else None


def assignment_line_in_class(file, class_name, name):
    """The line where class `class_name` of the file binds `name` (a def, decorated or not, or an assignment), or None."""
    try:
        ast = stdlib.load('ast')
        with open(file, 'rb') as f:
            tree = ast.parse(f.read(), file)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == class_name:
                found = None
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                        found = item.lineno
                    elif isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in item.targets):
                        found = item.lineno
                return found
    except BaseException:
        pass
    return None


def class_lines(file, names):
    """The line of each module-level `class` statement of the component named in `names` (for a message)."""
    ast = stdlib.load('ast')
    try:
        with open(file, 'rb') as f:
            tree = ast.parse(f.read(), file)
    except BaseException:
        return {}
    wanted = set(names)
    return dict((n.name, n.lineno) for n in tree.body if isinstance(n, ast.ClassDef) and n.name in wanted)


_class_lines = {}  # (file, its mtime and size, class name) -> its line: a replay's every record may fail alike


def class_line(cls, file):
    """The line of cls's `class` statement in the component's file, else None."""
    try:
        st = os.stat(file)
        key = (file, st.st_mtime_ns, st.st_size, cls.__name__)
    except (OSError, AttributeError):
        return None
    if key not in _class_lines:
        if len(_class_lines) > 1000:
            _class_lines.clear()
        _class_lines[key] = class_lines(file, [cls.__name__]).get(cls.__name__)
    return _class_lines[key]


def printed_at(shared, file):
    """The component's line (the innermost frame in its file) whose print took the call past the output limit, or None."""
    return next((n for f, n in (shared[2] or ()) if os.path.abspath(f) == file), None)


def output_failure(shared, limit, record, file):
    """A batch's record stopped at the print that took it past the output limit (it ends the replay: batch_stops.py)."""
    line = printed_at(shared, file)
    return ComponentFailure('OUTPUT_LIMIT_EXCEEDED', 'the component printed more than the limit of %s bytes on record %d%s and was stopped '
                            'there; nothing was sent for it (print less, or raise the output limit)'
                            % ('{:,}'.format(limit), record, '' if line is None else ' (the print at line %d passed it)' % line), file, line)


def assignment_line(file, name):
    """The line of the last module-level assignment to `name` in the component's source (for a message), else None."""
    node = metadata_values.last_assignment(file, name)
    return None if node is None else node.lineno


def meant_entry(cls, file):
    """For a class left abstract by an entry point it does not define: the method it defines instead, said with its line
    (the other dialect's entry point on the wrong base, or a misspelt name such as generate_orders or generateOrder)."""
    try:
        missing = [m for m in ('generate_order', 'execute') if m in cls.__abstractmethods__]
        if not missing:
            return ''
        own = [(n, v) for n, v in vars(cls).items() if isinstance(n, str) and not n.startswith('__')
               and callable(getattr(v, '__func__', v))]
        other = {'generate_order': 'execute', 'execute': 'generate_order'}[missing[0]]
        base = {'generate_order': 'OrderBase', 'execute': 'Order'}[missing[0]]
        for name, value in own:
            code = getattr(getattr(value, '__func__', value), '__code__', None)
            at = ' at line %d' % code.co_firstlineno if code is not None and os.path.abspath(code.co_filename) == file else ''
            if name == other:
                return ('; it defines %s%s, the entry point of classes deriving %s: rename it %s, or derive %s'
                        % (name, at, 'Order' if other == 'execute' else 'OrderBase', missing[0],
                           'Order' if other == 'execute' else 'OrderBase'))
            folded = name.lower().replace('_', '')
            target = missing[0].replace('_', '')
            if folded != target and (stdlib.load('difflib').SequenceMatcher(None, folded, target).ratio() >= 0.8
                                     or (len(folded) >= 4 and (target.startswith(folded) or folded.startswith(target)))):
                return '; it defines %s%s: did you mean %s (what %s declares)?' % (name, at, missing[0], base)
            if folded == target:
                return '; it defines %s%s: the name must be exactly %s' % (name, at, missing[0])
    except Exception:
        pass
    return ''


def inheritance_note(classes):
    """When one candidate derives another, says so: both run on their own, SPtrader does not take the subclass for
    the component by itself (a base meant only to be derived can say so with an @abstractmethod)."""
    for c in classes:
        for b in classes:
            if b is not c and issubclass(c, b):
                return ('; %s derives %s, and both can run: to run only %s, make %s abstract (an @abstractmethod it leaves '
                        'to its subclasses)' % (c.__name__, b.__name__, c.__name__, b.__name__))
    return ''


def base_name(expr):
    """The name a base class or decorator expression ends in: OrderBase, core.orders.order_base.OrderBase,
    Generic[T] -> Generic, abc.abstractmethod -> abstractmethod; None for anything else."""
    ast = stdlib.load('ast')
    while isinstance(expr, (ast.Subscript, ast.Call)):
        expr = expr.value if isinstance(expr, ast.Subscript) else expr.func
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def metadata_literal(ast, node, depth=0):
    """A __metadata__ written as literals, where dict(name=..., risk_limits=dict(...)) counts as one (SPtraderB's
    components write both); anything else raises as ast.literal_eval does."""
    if depth > 100:
        raise ValueError('nested too deeply')
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict' and not node.args \
            and all(k.arg is not None for k in node.keywords):
        return dict((k.arg, metadata_literal(ast, k.value, depth + 1)) for k in node.keywords)
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return dict((metadata_literal(ast, k, depth + 1), metadata_literal(ast, v, depth + 1))
                    for k, v in zip(node.keys, node.values))
    if isinstance(node, ast.List):
        return [metadata_literal(ast, e, depth + 1) for e in node.elts]
    named = metadata_values.literal_type_name(ast, node)
    return named if named is not None else ast.literal_eval(node)

def limit_lines(ast, value):
    """The lines of `risk_limits` in a __metadata__ written as a dict display or dict(...): '' for the key itself,
    and each limit's own key, as {'': 7, 'max_position_size': 8}; None when it is not written there."""
    def items(node):
        if isinstance(node, ast.Dict):
            return [(k.value, k.lineno, v) for k, v in zip(node.keys, node.values)
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
            return [(k.arg, getattr(k, 'lineno', node.lineno), k.value) for k in node.keywords if k.arg is not None]
        return []
    for key, line, inner in items(value):
        if key == 'risk_limits':
            lines = {'': line}
            for limit, at, _ in items(inner):
                lines[limit] = at
            return lines
    return None


def check_source_bytes(source, file, what='a component'):
    """
    Source bytes Python cannot compile for what they are, not for a mistake in the code: a NUL byte. A file saved as
    UTF-16 (Notepad's "Unicode", Windows PowerShell's > and Out-File) holds one in every other byte, and was said as
    "syntax error at line None: source code string cannot contain null bytes" (a ValueError before Python 3.12, not
    a SyntaxError at all): now the encoding and what to do, or the line and column of a stray NUL.
    """
    at = source.find(b'\x00')
    if at < 0:
        return
    head = source[:2]
    if head in (b'\xff\xfe', b'\xfe\xff') or (at < 2 and source[:200].count(b'\x00') * 3 >= len(source[:200])):
        bom = 'it starts with UTF-16\'s byte order mark' if head in (b'\xff\xfe', b'\xfe\xff') else 'every other byte is 0'
        raise ComponentFailure(
            'SYNTAX_ERROR',
            '%s is UTF-16 text (%s), as Notepad\'s "Unicode" and Windows PowerShell\'s > and Out-File save it; Python '
            'reads %s as UTF-8: save it as UTF-8' % (os.path.basename(file), bom, what), file, 1)
    line = source.count(b'\n', 0, at) + 1
    # Counted in characters, as Python counts a SyntaxError's column (the editor's squiggle converts from there).
    column = len(source[source.rfind(b'\n', 0, at) + 1:at].decode('utf-8', 'replace')) + 1
    f = ComponentFailure(
        'SYNTAX_ERROR',
        'line %d, column %d holds a NUL byte (\\x00), which Python source cannot hold (binary data pasted in, or the '
        'file was damaged): remove it' % (line, column), file, line)
    f.column = column
    raise f


def syntax_failure(e, file):
    """A SyntaxError (or IndentationError) as SYNTAX_ERROR, with the column its message names and, on 3.10+, where it ends."""
    line = e.lineno if isinstance(e.lineno, int) and e.lineno > 0 else None
    column = e.offset if isinstance(e.offset, int) and e.offset > 0 and line is not None else None
    if column is not None:
        message = 'syntax error at line %s, column %s: %s' % (line, column, e.msg)
    elif line is not None:
        message = 'syntax error at line %s: %s' % (line, e.msg)
    else:
        message = 'syntax error: %s' % (e.msg,)
    if "codec can't decode" in str(e.msg):
        # A file saved as Latin-1 or Windows-1252 (an accented letter in a comment): what to do, not only the byte.
        message += ' (the file is not UTF-8 text: save it as UTF-8, or declare its encoding on its first line: # -*- coding: latin-1 -*-)'
    f = ComponentFailure('SYNTAX_ERROR', message, file, line)
    f.column = column
    end_line = getattr(e, 'end_lineno', None)
    end_offset = getattr(e, 'end_offset', None)
    # Python gives end_offset 0 or one equal to offset when it knows no end: then none is sent.
    if column is not None and isinstance(end_line, int) and isinstance(end_offset, int) and end_offset > 0 and (
            end_line > line or (end_line == line and end_offset > column)):
        f.end_line = end_line
        f.end_column = end_offset
    return f


def missing_parameter(exc, params, cls=None):
    """What to do when a constructor failed for a parameter it was not given (self.config['x'], a required argument).
    A base class's __init__ called without its argument (super().__init__() on OrderBase) is not about a parameter."""
    import re
    if type(exc) is TypeError and cls is not None:
        m = re.match(r"(\w+)\.__init__\(\) missing", str(exc))
        if m and m.group(1) != cls.__name__:
            if m.group(1) == 'OrderBase':
                return ('; OrderBase.__init__ takes the parameters as one dict: call super().__init__(config) with the dict '
                        'your __init__ is given, or super().__init__({})')
            return ''
    how = ('declare it in __metadata__[\'parameters\'] with a default, or give it a value (CLI --param %s=VALUE, the editor\'s '
           'Component Inputs)')
    # A key a lookup missed is a name; a KeyError raised with a sentence ('missing settings: account') is not one.
    if type(exc) is KeyError and len(exc.args) == 1 and isinstance(exc.args[0], str) and exc.args[0] not in params \
            and re.match(r'^[\w.\-]+$', exc.args[0]):
        return '; the parameter %r was not given: %s' % (exc.args[0], how % exc.args[0])
    if type(exc) is TypeError:
        m = re.search(r"missing \d+ required (?:keyword-only |positional )?arguments?: '(\w+)'", str(exc))
        if m and m.group(1) not in params:
            return '; the parameter %r was not given: %s' % (m.group(1), how % m.group(1))
    return ''


# Python's builtins as the harness found them: a component that rebinds one (open, isinstance, len) must not break
# the harness code that runs after it, nor the next run.
_BUILTINS = dict(vars(builtins))


def restore_builtins():
    """Puts back any builtin a component rebound or deleted; names it added are left alone."""
    current = builtins.__dict__  # not vars(): a component may have rebound that too
    for name, value in _BUILTINS.items():
        if current.get(name) is not value:
            current[name] = value


# Signals whose handling a component may change for itself; SIGALRM is the watchdog's, set at each run.
_KEPT_SIGNALS = ('SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE', 'SIGCHLD', 'SIGUSR1', 'SIGUSR2')


def process_state():
    """What of the process a run may change and the next run must not inherit: the working folder (the package root,
    where relative paths are read from), the handlers of a few signals and the warnings filters (one component's
    simplefilter('error') turned another's DeprecationWarning into its failure)."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    handlers = []
    signal = _signal_module
    for name in _KEPT_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            try:
                handlers.append((number, signal.getsignal(number)))
            except (ValueError, OSError):
                pass
    return cwd, handlers, list(stdlib.load('warnings').filters)


def set_warning_filters(filters):
    warnings = stdlib.load('warnings')
    try:
        if warnings.filters != filters:
            warnings.filters[:] = filters
            mutated = getattr(warnings, '_filters_mutated', None)
            if mutated is not None:
                mutated()  # the cache of what each warning's location already decided
    except Exception:
        pass


def restore_process_state(kept):
    cwd, handlers, filters = kept
    set_warning_filters(filters)
    stdin = sys.stdin
    if stdin is None or getattr(stdin, 'closed', False):
        # exit() and quit() close sys.stdin before they raise SystemExit (site's Quitter): the next component's
        # sys.stdin.read() must find no input, as a fresh process's does, not "I/O operation on closed file".
        try:
            sys.stdin = open(0, 'r', encoding='utf-8', closefd=False)
        except (OSError, ValueError):
            pass
    try:
        if cwd is not None and os.getcwd() != cwd:
            os.chdir(cwd)
    except OSError:
        try:
            os.chdir(cwd)
        except OSError:
            pass
    signal = _signal_module
    for number, handler in handlers:
        try:
            if handler is not None and signal.getsignal(number) is not handler:
                signal.signal(number, handler)
        except (ValueError, OSError, TypeError):
            pass


def new_user_modules(before):
    """The names of the user's modules (not components) that are in sys.modules now and were not in `before`."""
    found = []
    for name, module in list(sys.modules.items()):
        if before.get(name) is module or module is None or getattr(module, '__sptrader_component__', None) is not None:
            continue
        if stdlib.users(module):
            found.append(name)
    return found


def live_threads():
    """The Python threads alive now, ident -> thread (none when nothing imported threading)."""
    threading = sys.modules.get('threading')
    if threading is None:
        return {}
    try:
        return dict((t.ident, t) for t in threading.enumerate())
    except Exception:
        return {}


def left_threads(response, before):
    """
    A Test Order run that left threads running ends its worker (recycle): a thread cannot be stopped, and what it
    printed or did later would be taken for the next run's, another component's. Not a replay batch: its instance
    lives across batches, and a fresh worker would lose its state.
    """
    left = [t for ident, t in live_threads().items() if ident not in before]
    if not left:
        return
    # A thread that is ending as the run returns (a Timer that just fired) is given a moment to finish. The base
    # class's own methods: a Thread subclass may override join.
    thread = sys.modules['threading'].Thread
    deadline = time.perf_counter() + 0.1
    for t in left:
        try:
            thread.join(t, max(0.0, deadline - time.perf_counter()))
        except Exception:
            pass
    left = [str(getattr(t, '_name', '?'))[:80] for t in left if not isinstance(t, thread) or thread.is_alive(t)]
    if not left:
        return
    response['recycle'] = True
    if isinstance(response.get('stderr'), str):
        response['stderr'] += ('[sptrader] the component left %d thread%s running (%s); a thread cannot be stopped, so the next run '
                               'starts in a new interpreter\n' % (len(left), '' if len(left) == 1 else 's', ', '.join(left[:5])))


def imported_syntax_failure(e, file, line, text, tb=None):
    """A SyntaxError raised while the component ran or loaded: in a module it imports (or code it compiles), said
    at that module's line and column, with the component's line that imported it. A module saved as UTF-16 (or
    holding a NUL byte) is named, found from the import statement in `tb` (Python names no file for it)."""
    filename = getattr(e, 'filename', None)
    where = filename if isinstance(filename, str) and os.path.isfile(filename) else None
    importer, at = file, line
    if where is None and tb is not None and nulsource.names_nul_source(e):
        found = nulsource.nul_module(tb)
        if found is not None:
            where, importer, at = found
    if where is not None and nulsource.holds_nul(where):
        try:
            with open(where, 'rb') as f:
                check_source_bytes(f.read(), os.path.abspath(where), 'a module')
        except ComponentFailure as f:
            f.message += ' (imported by %s at line %s%s)' % (
                os.path.basename(importer), at,
                '' if os.path.abspath(importer) == file or line is None else '; the component\'s line %s' % line)
            f.traceback_text = text
            return f
        except OSError:
            pass
    if where is None:
        return ComponentFailure('SYNTAX_ERROR', 'code compiled at line %s raised %s' % (line, describe(e)), file, line, text)
    f = syntax_failure(e, os.path.abspath(where))
    f.message = '%s in %s%s (imported by %s at line %s)' % (
        f.message[:len('syntax error')], os.path.basename(where), f.message[len('syntax error'):], os.path.basename(file), line)
    f.traceback_text = text
    return f


# The import roots components run with (PYTHONPATH: the package root first), set by main() before any component
# could change sys.path or the environment.
_IMPORT_ROOTS = []


def own_name(file):
    """The stem of the component's file as its module's name ('my_order' for my_order.py), or None when that name is
    not free: not an identifier, a name the harness serves, a module already imported from another file, or one that
    Python would find elsewhere (its standard library, an installed package, a module of the workspace's roots)."""
    stem = os.path.basename(file)[:-3] if file.endswith('.py') else ''
    if not stem.isidentifier() or stem.startswith(('sptrader', '_')) or stem == '__main__':
        return None
    keyword = stdlib.load('keyword')
    if keyword.iskeyword(stem) or stem in sys.builtin_module_names or stem.split('.')[0] in _FALLBACK_TOPS:
        return None
    names = getattr(sys, 'stdlib_module_names', ())
    if stem in names:
        return None
    held = sys.modules.get(stem)
    if held is not None:
        return stem if getattr(held, '__file__', None) == file and getattr(held, '__sptrader_component__', None) else None
    try:
        machinery = stdlib.load('importlib.machinery')
        if machinery.FrozenImporter.find_spec(stem) is not None:
            return None
        folder = os.path.dirname(file)
        elsewhere = [p for p in sys.path if isinstance(p, str) and os.path.abspath(p or '.') != folder]
        if machinery.PathFinder.find_spec(stem, elsewhere) is not None:
            return None
    except Exception:
        return None
    return stem


_FALLBACK_TOPS = frozenset(name.split('.')[0] for name in FALLBACK_MODULES)


def package_of(file):
    """The dotted package a component file sits in, read against the import roots (the package root first), or
    None: a file at a root's top, or under a folder whose name holds a dot. A folder named as no Python name can be
    (smart-routing, `my algos`, 2024) is a package all the same: the import system finds a folder by its name and
    never checks it is an identifier, so `from .helper import x` in core/orders/smart-routing/ resolves there."""
    folder = os.path.dirname(file)
    for entry in _IMPORT_ROOTS:
        root = os.path.abspath(entry)
        if folder == root:
            return None
        prefix = root if root.endswith(os.sep) else root + os.sep
        if folder.startswith(prefix):
            parts = folder[len(prefix):].split(os.sep)
            if all(p and '.' not in p for p in parts):
                return '.'.join(parts)
    return None


def import_failure(e, file, line, tb):
    """What an ImportError while loading the component says: what was missing and how to get it, or for a relative
    import (`from .helper import x`) of the component's own that Python cannot place in a package, how to import the
    helper instead."""
    missing = getattr(e, 'name', None) or str(e)
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    own = last is not None and os.path.abspath(last.tb_frame.f_code.co_filename) == file
    if own and getattr(e, 'name', None) is None and 'relative import' in str(e):
        folder = os.path.dirname(file)
        why = ('it sits at the top of the package root (%s)' % folder if package_of(file) is None and any(
            os.path.abspath(r) == folder for r in _IMPORT_ROOTS) else 'no package can be named for %s (a folder name '
            'holds a dot, or the folder is outside the package root)' % folder)
        return ('%s at line %s: a relative import needs the component inside a package, and %s; import the helper by '
                'its plain name instead (`from .helper import x` -> `from helper import x`: the component\'s folder is on '
                'sys.path), or set the package root (setting sptrader.python.packageRoot) above the folder'
                % (describe(e), line, why))
    return ('%s (line %s imports %s); install it into the interpreter that runs components, or fix the import'
            % (describe(e), line, missing))


def failure_json(f):
    message = f.message if isinstance(f.message, str) else str(f.message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + '... (%d characters in all)' % len(message)
    text = f.traceback_text
    if text and len(text) > MAX_TRACEBACK_CHARS:
        text = '...\n' + text[-MAX_TRACEBACK_CHARS:]
    answer = {'code': f.code, 'message': message, 'file': f.file, 'line': f.line, 'traceback': text}
    if getattr(f, 'column', None) is not None:
        answer['column'] = f.column
        if f.end_line is not None:
            answer['end_line'] = f.end_line
            answer['end_column'] = f.end_column
    return answer


def main():
    worker = '--worker' in sys.argv[1:]
    proto_in, proto_out = processes.open_channel()
    OUTPUT_FD[0] = processes.private_fd(2)
    sys.stdout = sys.stderr
    sys.meta_path.append(FallbackFinder())
    stdlib.add_roots()
    _IMPORT_ROOTS[:] = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    processes.watch_processes(eager=worker)
    endings.guard(OUTPUT_FD[0])
    processes.catch_signals(library_roots)
    if worker:
        # A warm worker lives as long as its parent; a one-run session ends at its run's own limit (watchdog.py).
        # Not in a one-run session: Debug Order's would show the thread in the user's call stack.
        processes.exit_with_parent()
    Server(proto_in, proto_out).serve()


if __name__ == '__main__':
    main()
