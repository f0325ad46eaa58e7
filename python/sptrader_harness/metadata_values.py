"""
A __metadata__ as SPtrader reads it where a trader's Python is not plain JSON. A parameter's type written as the Python
type itself ('type': int) is that type's name ('int'), alike when the file is read without running it and when it runs.
Any other value JSON cannot carry leaves out only the top-level key that holds it, said on the run's stderr; before,
the whole __metadata__ was left out without a word, and with it the risk_limits it declares, so an order past them was
sent. A risk_limits JSON cannot carry stops the run at its line instead: its limits may only tighten, never be lost.
"""
import builtins

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


def readable(meta, budget_for, line):
    """
    `meta` (a dict) as JSON-safe values within the metadata budget (budget_for() gives a fresh one), and the notes on
    what was left out: (value, notes). Raises what safe_json raises past the size or depth limit, and a
    ComponentFailure at `line` when its risk_limits cannot be carried.
    """
    meta = _named(meta)
    try:
        return safe_json(meta, '__metadata__', budget_for()), []
    except ComponentFailure as f:
        if f.code != 'NOT_SERIALIZABLE':
            raise
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
                                       f.file, line)
            notes.append("__metadata__[%r] was left out: %s" % (key, f.message))
    return value, notes
