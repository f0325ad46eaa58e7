"""
What a trader's everyday Python means to the harness, where it would otherwise be misread: a base class whose entry
point only raises NotImplementedError is meant to be derived, not run (as an @abstractmethod is), and so is one whose
hook for its subclasses does (a template method); market_data.bid or signal.side read as attributes of what are dicts;
an order returned as str(order), the Python text of a dict, which JSON cannot read.
"""
import os

from sptrader_harness import stdlib


def raises_not_implemented(ast, node):
    """True when a function's body (after its docstring) is only `raise NotImplementedError[(...)]`."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    name = exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else None
    return name == 'NotImplementedError'


def entry_not_implemented(cls, file):
    """True when the entry point (generate_order, else execute) cls has, defined in the component's file, only raises
    NotImplementedError: Python's way, without abc, to leave a method to subclasses."""
    ast = stdlib.load('ast')
    for name in ('generate_order', 'execute'):
        method = inspect_static(cls, name)
        if method is None:
            continue
        code = getattr(getattr(method, '__func__', method), '__code__', None)
        if code is None or os.path.abspath(code.co_filename) != file:
            return False
        try:
            with open(file, 'rb') as f:
                tree = ast.parse(f.read(), file)
        except BaseException:
            return False
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name and code.co_firstlineno in (
                    [node.lineno] + [d.lineno for d in node.decorator_list]):
                return raises_not_implemented(ast, node)
        return False
    return False


def left_to_subclasses(cls, file, others):
    """True when cls is a base meant to be derived, not run: its entry point only raises NotImplementedError, or a
    method it has from the component's file does (a template method's hook, `def decide(self, market_data): raise
    NotImplementedError`) and a class among `others` derives cls and defines that method. Running it would raise."""
    if entry_not_implemented(cls, file):
        return True
    ast = stdlib.load('ast')
    try:
        with open(file, 'rb') as f:
            tree = ast.parse(f.read(), file)
        below = [o for o in others if o is not cls and issubclass(o, cls)]
    except BaseException:
        return False
    if not below:
        return False
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not raises_not_implemented(ast, node):
            continue
        method = inspect_static(cls, node.name)
        code = getattr(getattr(method, '__func__', method), '__code__', None)
        if code is None or os.path.abspath(code.co_filename) != file or code.co_firstlineno not in (
                [node.lineno] + [d.lineno for d in node.decorator_list]):
            continue
        if any(inspect_static(o, node.name) is not method for o in below):
            return True
    return False


def template_bases(ast, nodes):
    """The names of the classes among `nodes` (a file's class definitions, in order) that leave a method to a class
    below them, as left_to_subclasses reads the classes once they run: read without running the file."""
    hooks = {}  # class name -> the methods it leaves undefined (only raising NotImplementedError)
    ancestors = {}  # class name -> the classes of the file it derives, at any depth
    for node in nodes:
        functions = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        methods = set(n.name for n in functions)
        left = set(n.name for n in functions if raises_not_implemented(ast, n))
        found = set()
        for base in node.bases:
            name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
            if name in hooks:
                left.update(hooks[name] - methods)
                found.add(name)
                found.update(ancestors[name])
        hooks[node.name] = left
        ancestors[node.name] = found
    return set(name for name, left in hooks.items()
               if left and any(name in ancestors[d] and not left <= hooks[d] for d in hooks))


def inspect_static(cls, name):
    """cls's attribute `name` as its class body (or a base's) holds it, without running a descriptor; None if absent."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


def read_as_attribute(exc, market_data, signal):
    """For market_data.bid or signal.side (an object's habit): they are dicts, read by key (AttributeError.obj is
    Python 3.10's; before it nothing is said)."""
    if type(exc) is not AttributeError or not isinstance(getattr(exc, 'name', None), str):
        return ''
    obj = getattr(exc, 'obj', None)
    what = 'market_data' if obj is market_data and obj is not None else 'the signal' if obj is signal and obj is not None else None
    if what is None or not isinstance(obj, dict):
        return ''
    name = exc.name
    has = "it has no %r either (its keys: %s)" % (name, ', '.join(sorted(k for k in dict.keys(obj) if isinstance(k, str))[:40]) or 'none') \
        if name not in obj else "it has %r" % name
    return '; %s is a dict, read by key: %s[%r] or %s.get(%r) (%s)' % (
        what, 'market_data' if what == 'market_data' else 'signal', name, 'market_data' if what == 'market_data' else 'signal', name, has)


def python_dict_text(text):
    """True when text is a dict as Python writes it (str(order), repr, f'{order}'): the order meant, sent as text."""
    try:
        return isinstance(stdlib.load('ast').literal_eval(text.strip()), dict)
    except Exception:  # a RecordTimeout (watchdog.py) is not caught
        return False


def iso_z_before_311(exc):
    """For datetime.fromisoformat(market_data['timestamp']) before Python 3.11: it reads no trailing 'Z' (UTC) there,
    and SPtrader's times end in one ('2026-12-05T11:25:35.750Z'), as JavaScript and the venues write them."""
    import sys
    if type(exc) is not ValueError or sys.version_info >= (3, 11) or not exc.args or not isinstance(exc.args[0], str):
        return ''
    text = exc.args[0]
    if not (text.startswith('Invalid isoformat string: ') and text.rstrip("'\"").endswith('Z')):
        return ''
    return ("; datetime.fromisoformat reads a time ending in 'Z' (UTC) from Python 3.11 on, and this interpreter is %d.%d: "
            "replace the Z first (ts.replace('Z', '+00:00')), or take market_data['timestamp_ms'] (epoch milliseconds): "
            "datetime.fromtimestamp(market_data['timestamp_ms'] / 1000, timezone.utc)" % sys.version_info[:2])
