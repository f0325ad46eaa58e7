"""
A __metadata__ as SPtrader reads it where a trader's Python is not plain JSON. A parameter's type written as the Python
type itself ('type': int) is that type's name ('int'), alike when the file is read without running it and when it runs.
Any other value JSON cannot carry leaves out only the top-level key that holds it, said on the run's stderr; before,
the whole __metadata__ was left out without a word, and with it the risk_limits it declares, so an order past them was
sent. A risk_limits JSON cannot carry stops the run at its line instead: its limits may only tighten, never be lost.
"""
import builtins

from sptrader_harness import stdlib
from sptrader_harness.safejson import ComponentFailure, safe_json

# The types a declaration names by the type itself (`'type': int`), read as their names.
TYPE_NAMES = ('int', 'float', 'str', 'bool', 'list', 'dict', 'tuple')


def literal_type_name(ast, node):
    """The name of a builtin type a literal __metadata__ writes as the type itself (`int`), else None."""
    if isinstance(node, ast.Name) and node.id in TYPE_NAMES:
        return node.id
    return None


def _named(value, depth=0):
    """value with every builtin type object in it as its name; the same object where nothing changed."""
    if depth > 100:
        return value
    if isinstance(value, type) and value.__name__ in TYPE_NAMES and getattr(builtins, value.__name__, None) is value:
        return value.__name__
    if type(value) is dict:
        out = None
        for k, v in value.items():
            named = _named(v, depth + 1)
            if named is not v:
                if out is None:
                    out = dict(value)
                out[k] = named
        return value if out is None else out
    if type(value) in (list, tuple):
        items = [_named(v, depth + 1) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def readable(meta, budget_for, line_of):
    """
    `meta` (a dict) as JSON-safe values within the metadata budget (budget_for() gives a fresh one), and the notes on
    what was left out: (value, notes). Raises what safe_json raises past the size or depth limit, and a
    ComponentFailure at line_of() (the assignment's line) when its risk_limits cannot be carried.
    """
    whole = _whole(meta, budget_for)
    if whole is None:
        # Python types named (their own walk, done only for a __metadata__ JSON could not carry as it was).
        named = _named(meta)
        whole = _whole(named, budget_for) if named is not meta else None
        meta = named
    if whole is not None:
        return whole, []
    value = {}
    notes = []
    budget = budget_for()
    for key, item in meta.items():
        try:
            value[key if isinstance(key, str) else str(key)] = safe_json(item, "__metadata__['%s']" % key, budget)
        except ComponentFailure as f:
            if f.code != 'NOT_SERIALIZABLE':
                raise
            if key == 'risk_limits':
                raise ComponentFailure('NOT_SERIALIZABLE', "__metadata__['risk_limits'] cannot be read: %s; the limits it declares "
                                       'could not be applied, so nothing was sent (write each limit as a number)' % f.message,
                                       f.file, line_of())
            notes.append("__metadata__[%r] was left out: %s" % (key, f.message))
    return value, notes


def parameter_line(file, name):
    """The line of parameter `name`'s declaration in the last module-level `__metadata__ = ...` of the file (its key in
    the 'parameters' dict, written as a dict display or dict(...)), else that assignment's line, else None: where a value
    the declaration does not allow is said."""
    ast = stdlib.load('ast')
    found = last_assignment(file, '__metadata__')
    if found is None:
        return None
    parameters = _entry(ast, found.value, 'parameters')
    key = _entry(ast, parameters, name, key=True) if parameters is not None else None
    return key.lineno if key is not None else found.lineno


def last_assignment(file, name):
    """The last module-level assignment to `name` in the component's source (an ast node), else None."""
    ast = stdlib.load('ast')
    try:
        with open(file, 'rb') as f:
            tree = ast.parse(f.read(), file)
    except BaseException:
        return None
    found = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        # A bare annotation (`name: dict`) assigns nothing.
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
            found = node
    return found


def _entry(ast, node, name, key=False):
    """The value (or with key, the key node) written for `name` in a dict display or dict(...) node, else None."""
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values):
            if isinstance(k, ast.Constant) and k.value == name:
                return k if key else v
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        for k in node.keywords:
            if k.arg == name:
                return k.value
    return None


def _whole(meta, budget_for):
    """meta as JSON-safe values, or None when a value in it is not JSON (NOT_SERIALIZABLE); past a limit, raises."""
    try:
        return safe_json(meta, '__metadata__', budget_for())
    except ComponentFailure as f:
        if f.code != 'NOT_SERIALIZABLE':
            raise
    return None
