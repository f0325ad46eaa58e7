"""
The component's own validate_order: the designed dialect's hook (OrderBase.validate_order in
order-execution-architecture.md), called by the harness on every order generate_order returns,
before the order leaves the harness; in a replay batch, on every item's order.

What it may return (the design says `-> bool`; a reason is optional):
  True or None                   the order goes on to SPtrader's own validation and risk checks
  False                          the order is stopped (ORDER_VETOED); nothing is sent
  (False, 'reason') or 'reason'  stopped, with the component's reason in the message
  (True, anything)               goes on
A number or a numpy bool counts by its truth. Anything else stops the order with COMPONENT_ERROR (a
validator that says something unexpected is not taken as a yes). An exception raised in it stops the
order with COMPONENT_ERROR and the line it was raised at.

Which validate_order is called: the one the component's class resolves to, when that is not the
design's own default (OrderBase's check that symbol, side, order_type and quantity are present).
SPtrader validates those fields itself with a message per field, and also reads the shipped keys
(type/size) that default would refuse, so the default is recognised by its code (the bundled base
class, or a workspace's copy of the design's) and not called. A workspace base class whose
validate_order does something else is called. SPtraderB's shipped Order (execute) has no validation
hook: a validate_order on such a class is not called, and the run's output says so once per run.

A veto carries the line of the `return` that made it, found in the function's source after the veto
(orders that pass never pay for it): the return whose written-out reason (a constant, an f-string, a
'%' or .format template) matches the reason given, else the only return that could have given that
verdict, else the `def` line (the message then says "(line N)" rather than "at line N").
"""
import os

from sptrader_harness import returns, stdlib
from sptrader_harness.safejson import ComponentFailure, article

MAX_REASON_CHARS = 1000
MAX_CACHED = 256

# The design's default, compared by bytecode (docstrings and line numbers aside) with the
# validate_order an OrderBase class defines.
SPEC_DEFAULT_SOURCE = '''
class OrderBase(object):
    def validate_order(self, order):
        """Validate order before submission"""
        required_fields = ['symbol', 'side', 'order_type', 'quantity']
        return all(field in order for field in required_fields)
'''

_spec = []  # [fingerprint of SPEC_DEFAULT_SOURCE's validate_order], made on first need
_hooks = {}  # (class, entry point) -> Hook or None
_returns = {}  # code object -> (def line, [(line, kind, constant reason or None)])


class Hook(object):
    """The validate_order to call for a class: where it is defined, for error lines; or a note when it is not called."""

    __slots__ = ('call', 'file', 'code', 'note')

    def __init__(self, call, file, code, note=None):
        self.call = call
        self.file = file
        self.code = code
        self.note = note


def hook_for(cls, entry):
    """The Hook for instances of cls run through entry ('generate_order' or 'execute'), or None. Cached per class."""
    key = (cls, entry)
    try:
        return _hooks[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable metaclass instance: look it up every time
        return _find(cls, entry)
    if len(_hooks) >= MAX_CACHED:
        _hooks.clear()
    hook = _hooks[key] = _find(cls, entry)
    return hook


def _find(cls, entry):
    for klass in getattr(cls, '__mro__', ()):
        try:
            raw = vars(klass).get('validate_order')
        except TypeError:
            continue
        if raw is None:
            continue
        func = getattr(raw, '__func__', raw)  # staticmethod, classmethod
        code = returns.code_of_function(func, 'validate_order')
        if entry != 'generate_order':
            return Hook(False, None, None, '%s.validate_order was not called: SPtraderB\'s Order (execute) has no validation hook. '
                        'Return None from execute to place no order' % cls.__name__)
        if klass.__name__ == 'OrderBase' and code is not None and _is_spec_default(code, getattr(func, '__doc__', None)):
            return None
        file = os.path.abspath(code.co_filename) if code is not None else None
        return Hook(True, file, code)
    return None


def _fingerprint(code, doc):
    consts = []
    for c in code.co_consts:
        if hasattr(c, 'co_code'):
            consts.append(_fingerprint(c, None))
        elif c is None or (doc is not None and isinstance(c, str) and c == doc):
            continue
        else:
            consts.append((type(c).__name__, c))
    return (code.co_code, code.co_names, code.co_varnames, code.co_argcount, tuple(consts))


def _is_spec_default(code, doc):
    if not _spec:
        namespace = {}
        exec(compile(SPEC_DEFAULT_SOURCE, '<the design\'s OrderBase>', 'exec', dont_inherit=True), namespace)
        reference = vars(namespace['OrderBase'])['validate_order']
        _spec.append(_fingerprint(reference.__code__, reference.__doc__))
    try:
        return _fingerprint(code, doc) == _spec[0]
    except Exception:
        return False


def _bool_like(value):
    if isinstance(value, (bool, int, float)):
        return True
    kind = type(value)
    return kind.__module__ == 'numpy' and getattr(value, 'shape', None) == ()


def judge(verdict, hook, class_name, file, traced=None):
    """Raises the ComponentFailure a verdict other than True/None calls for; returns when the order may go on."""
    reason = None
    if _bool_like(verdict):
        if bool(verdict):
            return
        kind = 'false'
    elif isinstance(verdict, str):
        kind = 'str'
        reason = verdict
    elif isinstance(verdict, (tuple, list)) and 1 <= len(verdict) <= 2 and _bool_like(verdict[0]):
        if bool(verdict[0]):
            return
        kind = 'tuple'
        reason = verdict[1] if len(verdict) == 2 else None
        if reason is not None and not isinstance(reason, str):
            try:
                reason = str(reason)
            except BaseException:
                reason = '(its reason could not be printed)'
    else:
        def_line, _ = _lines(hook.code)
        raise ComponentFailure('COMPONENT_ERROR', '%s.validate_order (line %s) returned %s, which says neither yes nor no: return True or None to '
                               'let the order go, or False, (False, \'reason\') or \'reason\' to stop it. The order was stopped in validate_order '
                               'and nothing was sent' % (class_name, def_line, _kind_of(verdict)), hook.file or file, def_line)
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        reason = reason[:MAX_REASON_CHARS] + '... (%d characters in all)' % len(reason)
    line, exact = veto_line(hook.code, kind, reason, traced)
    where = ('at line %s' % line) if exact else ('(line %s)' % line if line is not None else '')
    if reason:
        message = '%s.validate_order stopped the order %s: %s. Nothing was sent' % (class_name, where, reason)
    else:
        message = '%s.validate_order returned %s %s: the component stopped its own order. Nothing was sent' % (class_name, _short_repr(verdict), where)
    raise ComponentFailure('ORDER_VETOED', message.replace('  ', ' '), hook.file or file, line)


def _kind_of(value):
    if isinstance(value, (tuple, list)):
        return 'a %s of %d item%s' % (type(value).__name__, len(value), '' if len(value) == 1 else 's')
    name = type(value).__name__
    return '%s %s' % (article(name), name)


def _short_repr(value):
    try:
        text = repr(value)
    except BaseException:
        text = type(value).__name__
    return text if len(text) <= 80 else text[:77] + '...'


def veto_line(code, kind, reason, traced=None):
    """(line, exact): the return statement that vetoed (exact) or the def line (not exact); (None, False) without source.
    `traced`: the line of the return event a trace recorded (one run), taken to the return statement that spans it."""
    if code is None:
        return None, False
    def_line, returns = _lines(code)
    if traced is not None:
        started = [r[0] for r in returns if r[0] <= traced]
        return (max(started) if started else traced), True
    shape = {'false': 'false', 'str': 'str'}.get(kind, 'tuple')
    # Returns that could have given this verdict: its shape written out, or computed.
    possible = [r for r in returns if r[1] == shape or r[1] == 'expr']
    if reason is not None:
        import re
        matching = [r for r in possible if r[1] == shape and r[2] is not None and re.match(r[2], reason, re.DOTALL)]
        if len(matching) == 1:
            return matching[0][0], True
        if matching:
            return def_line, False
        possible = [r for r in possible if r[2] is None]
    if len(possible) == 1:
        return possible[0][0], True
    return def_line, False


def _lines(code):
    if code is None:
        return None, []
    cached = _returns.get(code)
    if cached is not None:
        return cached
    ast = stdlib.load('ast')
    def_line = code.co_firstlineno
    returns = []
    try:
        with open(code.co_filename, 'rb') as f:
            tree = ast.parse(f.read(), code.co_filename)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    function = None
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
                starts = [node.lineno] + [d.lineno for d in node.decorator_list]
                if code.co_firstlineno in starts:
                    function = node
                    break
    if function is not None:
        def_line = function.lineno
        stack = list(function.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(node, ast.Return):
                kind, reason = _shape(node.value)
                if kind is not None:
                    returns.append((node.lineno, kind, reason))
            stack.extend(ast.iter_child_nodes(node))
        returns.sort()
    if len(_returns) >= MAX_CACHED:
        _returns.clear()
    _returns[code] = (def_line, returns)
    return def_line, returns


def _shape(value):
    """
    What a return statement can veto with: 'false', 'str', 'tuple' or 'expr' (computed), and a pattern its
    reason text matches when the statement spells it out (a constant, an f-string, '%s' % x or '{}'.format(x));
    (None, None) when it cannot veto.
    """
    ast = stdlib.load('ast')
    if value is None:
        return None, None  # a bare return is None: the order goes on
    if isinstance(value, ast.Constant):
        v = value.value
        if v is None or v is True:
            return None, None
        if isinstance(v, str):
            return 'str', _pattern(value)
        if v is False or (isinstance(v, (int, float)) and not v):
            return 'false', None
        return None, None
    text = _pattern(value)
    if text is not None:
        return 'str', text
    if isinstance(value, (ast.Tuple, ast.List)) and 1 <= len(value.elts) <= 2:
        first = value.elts[0]
        if isinstance(first, ast.Constant) and first.value is True:
            return None, None
        return 'tuple', _pattern(value.elts[1]) if len(value.elts) == 2 else None
    if isinstance(value, (ast.Tuple, ast.List, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)):
        return None, None  # never a yes/no or a reason
    return 'expr', None


def _pattern(node):
    """A regular expression for the text node evaluates to, when its literal parts are written out; else None."""
    ast = stdlib.load('ast')
    import re
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value) + r'\Z'
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(re.escape(v.value))
            else:
                parts.append('.*?')
        return ''.join(parts) + r'\Z'
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        pieces = re.split(r'%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]', node.left.value)
        return '.*?'.join(re.escape(p) for p in pieces) + r'\Z'
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == 'format'
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
        pieces = re.split(r'\{[^{}]*\}', node.func.value.value)
        return '.*?'.join(re.escape(p.replace('{{', '{').replace('}}', '}')) for p in pieces) + r'\Z'
    return None
