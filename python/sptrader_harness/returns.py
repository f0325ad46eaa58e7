"""
Which `return` statement of generate_order (or execute) produced the order a run answers with, so that
SPtrader's own validation can put a problem with the order on that line instead of on the class.

Cost on the warm path is the point: the answer is only needed when the order turns out to be invalid,
which the harness does not know (SPtrader validates in Node), so it is found on every run, cheaply:

  1. Static, once per code object (cached): the function's source is parsed (as validation.py does for
     validate_order vetoes) and its `return` statements that can give an order are listed: not a bare
     `return`, not `return None`, not inside a nested function or class. When there is exactly one,
     that is the line, and a run pays a dict lookup. Most components are like this (a guard that
     returns None, then one order).
  2. Several candidates, Python 3.12+: sys.monitoring PY_RETURN events, switched on for that one code
     object only (set_local_events): one small callback per call of the component, nothing for the
     functions it calls. The instruction offset is turned into a line only when the answer is built.
  3. Several candidates, Python < 3.12, one run (Test Order, Debug Order's is the debugger's): a trace function
     for the time of the call (sys.settrace), whose local part is on that one code object only, with its line
     events off: it costs a Python call for every function the component calls (tens of microseconds for a
     pandas-heavy one), once per Test Order, and records the line of the return event. Not when another trace
     function is on (a debugger, coverage): that one is left alone.
  4. Several candidates, Python < 3.12, a replay batch (where (3) would cost that on every record): the
     candidate is picked by what was returned, against what each return statement writes out: a dict
     literal's keys and its constant values, else the only return that is not a dict literal. When that
     cannot decide (two literals fit, or a literal fits and another return is computed), the function's
     `def` line is given and the answer says it is not the return (`return_exact: false`).

A dynamic line (2, 3) is mapped onto the return statement that spans it, so that a return written over
several lines is reported at its `return` line on every Python version.
"""
import os
import sys

from sptrader_harness import stdlib

MAX_CACHED = 256
TOOL_NAME = 'sptrader-returns'

_plans = {}  # code object -> Plan
_classes = {}  # (class, entry point) -> Plan or None
_monitoring = []  # [tool id] once claimed, [None] when no tool id was free


class Plan(object):
    """How to find the return line of one code object: `line` when static, else `returns` to choose from."""

    __slots__ = ('code', 'file', 'def_line', 'line', 'returns', 'monitored', 'lines', 'silent')

    def __init__(self, code, file, def_line, line, returns, monitored, silent=False):
        self.code = code
        self.file = file
        self.silent = silent  # its source was read and no return in it gives a value: it always returns None
        self.def_line = def_line
        self.line = line
        self.returns = returns  # [(line, end_line, keys or None, {key: constant})]
        self.monitored = monitored
        self.lines = {}  # instruction offset -> the line of its return statement, when monitored


def plan_for_class(cls, entry, monitor=True):
    """The Plan for cls's entry point ('generate_order' or 'execute'), cached per class. monitor=False (a batch, which
    reads only locate_static) does not switch its return events on; a later call that wants them does."""
    key = (cls, entry)
    try:
        plan = _classes[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable metaclass instance
        return plan_for(code_of(cls, entry), monitor)
    else:
        if monitor and plan is not None and not plan.monitored and plan.line is None and len(plan.returns) > 1:
            plan.monitored = _monitor(code_of(cls, entry))
        return plan
    if len(_classes) >= MAX_CACHED:
        _classes.clear()
    plan = _classes[key] = plan_for(code_of(cls, entry), monitor)
    return plan


def code_of(owner, entry):
    """The code object behind owner.<entry>, through staticmethod/classmethod and decorators (code_of_function)."""
    try:
        func = getattr(owner, entry, None)
    except Exception:
        return None
    return code_of_function(func, entry)


def code_of_function(func, name=None):
    """
    The code object of the function the user wrote behind func: through staticmethod/classmethod, functools.wraps
    (__wrapped__) and, given the name it was defined with, a decorator written without functools.wraps, whose wrapper
    (`def inner(*args, **kwargs): return fn(*args, **kwargs)`) holds that function in its closure. Else func's own.
    """
    code = None
    try:
        for _ in range(10):
            func = getattr(func, '__func__', func)
            for _ in range(10):
                wrapped = getattr(func, '__wrapped__', None)
                if wrapped is None:
                    break
                func = getattr(wrapped, '__func__', wrapped)
            code = getattr(func, '__code__', None)
            if name is None or code is None or code.co_name == name:
                break
            inner = None
            for cell in getattr(func, '__closure__', None) or ():
                try:
                    held = cell.cell_contents
                except ValueError:  # a cell not filled yet
                    continue
                held = getattr(held, '__func__', held)
                if getattr(getattr(held, '__code__', None), 'co_name', None) == name:
                    inner = held
                    break
            if inner is None:
                break
            func = inner
    except Exception:
        code = getattr(func, '__code__', None)
    return code if code is not None and hasattr(code, 'co_code') else None


def plan_for(code, monitor=True):
    """The Plan for code (cached), switching on its return events when they are what decides (and monitor)."""
    if code is None:
        return None
    plan = _plans.get(code)
    if plan is not None:
        if monitor and not plan.monitored and plan.line is None and len(plan.returns) > 1:
            plan.monitored = _monitor(code)
        return plan
    if len(_plans) >= MAX_CACHED:
        for old in _plans:
            _unmonitor(old)
        _plans.clear()
        _classes.clear()
    file = os.path.abspath(code.co_filename)
    def_line, returns, silent = _returns_of(code)
    line = returns[0][0] if len(returns) == 1 else None
    monitored = False
    if monitor and line is None and len(returns) > 1:
        monitored = _monitor(code)
    plan = _plans[code] = Plan(code, file, def_line, line, returns, monitored, silent)
    return plan


def before_call(plan):
    """Clears the last recorded return before the component runs (monitored and traced plans record one)."""
    _traced[0] = None
    if plan is not None and plan.monitored:
        _last[0] = None


def trace_call(plan):
    """Python < 3.12, one run: switches on the trace that records plan's return line (3 above) when its returns are
    several and no other trace function is on; returns what switches it off again, or None when nothing was done."""
    if plan is None or plan.line is not None or plan.monitored or len(plan.returns) < 2 or plan.code is None:
        return None
    return trace_code(plan.code)


def traced_line():
    """The line of the return trace_code last recorded, or None."""
    return _traced[0]


def trace_code(code):
    """Records the line of the return event of `code` alone (line events off) until the function returned is called;
    None (nothing done) when another trace function, or a debugger's, coverage's or profiler's sys.monitoring tool, is
    on: those are left alone."""
    _traced[0] = None
    if code is None or sys.gettrace() is not None:
        return None
    monitoring = getattr(sys, 'monitoring', None)
    if monitoring is not None and any(monitoring.get_tool(tool) is not None for tool in (0, 1, 2)):
        # Python 3.12+: a debugger, coverage or a profiler on sys.monitoring instead of a trace function (debugpy).
        return None

    def local(frame, event, arg):
        if event == 'return':
            _traced[0] = frame.f_lineno
        return local

    def calls(frame, event, arg):
        if frame.f_code is not code:
            return None
        frame.f_trace_lines = False
        return local

    sys.settrace(calls)
    return _stop_trace


def _stop_trace():
    sys.settrace(None)


def locate(plan, result):
    """(file, line, exact): the return that produced result (exact), else the function's def line (not exact); None without a plan."""
    if plan is None:
        return None
    if plan.line is not None:
        return plan.file, plan.line, True
    if plan.monitored:
        last = _last[0]
        if last is not None:
            try:
                return plan.file, plan.lines[last], True
            except KeyError:
                line = plan.lines[last] = _statement_line(plan, _offset_line(last[0], last[1]))
                return plan.file, line, True
    traced = _traced[0]
    if traced is not None:
        return plan.file, _statement_line(plan, traced), True
    line = _match(plan.returns, result)
    return (plan.file, line, True) if line is not None else (plan.file, plan.def_line, False)


def locate_static(plan, result):
    """locate without the return events (a batch does not record them): the only return, else the one whose
    written-out dict fits result, else the function's def line (not exact); None without a plan."""
    if plan is None:
        return None
    if plan.line is not None:
        return plan.file, plan.line, True
    line = _match(plan.returns, result)
    return (plan.file, line, True) if line is not None else (plan.file, plan.def_line, False)


# -- sys.monitoring (3.12+) ----------------------------------------------------------------------

_last = [None]  # (code, instruction offset) of the last monitored return
_traced = [None]  # the line of the last traced return (trace_call)


def _on_return(code, offset, retval):
    _last[0] = (code, offset)


def _monitor(code):
    monitoring = getattr(sys, 'monitoring', None)
    if monitoring is None:
        return False
    if not _monitoring:
        tool = None
        for candidate in (4, 3, 5):  # 0 debugger, 1 coverage, 2 profiler are the user's tools'
            try:
                monitoring.use_tool_id(candidate, TOOL_NAME)
            except ValueError:
                continue
            tool = candidate
            monitoring.register_callback(tool, monitoring.events.PY_RETURN, _on_return)
            break
        _monitoring.append(tool)
    tool = _monitoring[0]
    if tool is None:
        return False
    try:
        monitoring.set_local_events(tool, code, monitoring.events.PY_RETURN)
    except (ValueError, TypeError):
        return False
    return True


def _unmonitor(code):
    plan = _plans.get(code)
    if plan is not None and plan.monitored and _monitoring and _monitoring[0] is not None:
        try:
            sys.monitoring.set_local_events(_monitoring[0], code, 0)
        except (ValueError, TypeError):
            pass


def _offset_line(code, offset):
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return line
    return None


def _statement_line(plan, line):
    if line is None:
        return None
    for start, end, _, _ in plan.returns:
        if start <= line <= end:
            return start
    return line


# -- the source --------------------------------------------------------------------------------


def _match(returns, result):
    """The one return whose written-out dict fits result, else the one return that is not a dict literal; else None."""
    if not isinstance(result, dict):
        computed = [r[0] for r in returns if r[2] is None]
        return computed[0] if len(computed) == 1 else None
    inner = result.get('order') if result.get('type') == 'order_request' else None
    inner = inner if isinstance(inner, dict) else None
    found = None
    computed = None
    several = False
    keys = result.keys()
    for line, _, written, constants in returns:
        if written is None:
            computed = line if computed is None else -1
            continue
        if keys == written:
            seen = result
        elif inner is not None and inner.keys() == written:
            seen = inner
        else:
            continue
        for k, v in constants.items():
            w = seen[k]
            if w.__class__ is not v.__class__ or w != v:
                break
        else:
            if found is not None:
                several = True
            found = line
    if found is not None:
        # a computed return could have made the same dict: then it cannot be told
        return None if several or computed is not None else found
    return computed if computed is not None and computed > 0 else None


def _returns_of(code):
    """(def line, [(line, end line, dict keys or None, {key: constant})], silent) of the returns in code's function that
    can give an order; silent when the function was read and none can (no `return` with a value, no `yield`) and it
    never says `return None` either."""
    ast = stdlib.load('ast')
    def_line = code.co_firstlineno
    try:
        with open(code.co_filename, 'rb') as f:
            tree = ast.parse(f.read(), code.co_filename)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return def_line, [], False
    function = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            if code.co_firstlineno in [node.lineno] + [d.lineno for d in node.decorator_list]:
                function = node
                break
    if function is None:
        return def_line, [], False
    returns = []
    yields = False
    said_none = False  # a `return None` written out: None is what it means
    stack = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            yields = True
        if isinstance(node, ast.Return):
            value = node.value
            if value is None or (isinstance(value, ast.Constant) and value.value is None):
                said_none = said_none or value is not None
                continue
            keys, constants = _dict_shape(value)
            returns.append((node.lineno, getattr(node, 'end_lineno', None) or node.lineno, keys, constants))
        stack.extend(ast.iter_child_nodes(node))
    returns.sort()
    return function.lineno, returns, not returns and not yields and not said_none


def _dict_shape(value):
    """A dict literal's string keys and constant values; (None, None) for anything else (or a literal with ** or computed keys)."""
    ast = stdlib.load('ast')
    if not isinstance(value, ast.Dict):
        return None, None
    keys = []
    constants = {}
    for k, v in zip(value.keys, value.values):
        if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
            return None, None
        keys.append(k.value)
        if isinstance(v, ast.Constant) and isinstance(v.value, (str, int, float, bool)):
            constants[k.value] = v.value
    return frozenset(keys), constants
