"""
A component's parameters against its constructor and its __metadata__: how the constructor takes them
(constructor_style) and what a given value breaks of its declaration (parameter_problem).
"""


_NUMBER_TYPES = ('float', 'number', 'double', 'decimal')
_WHOLE_TYPES = ('int', 'integer')


def short_repr(value):
    try:
        text = repr(value)
    except Exception:
        text = type(value).__name__
    return text if len(text) <= 80 else text[:77] + '...'


def parameter_problem(spec, value):
    """What a given value breaks of its declaration (type, options, min, max), or None: SPtrader checks values against
    __metadata__ before the run when it can read it without running the file (componentParameters.ts); a __metadata__
    computed at import (dict(...), built from constants) is only known here."""
    if not isinstance(spec, dict):
        return None
    options = spec.get('options')
    if isinstance(options, (list, tuple)) and options:
        if not any(o == value and isinstance(o, bool) == isinstance(value, bool) for o in options):
            return 'it is not one of its options (%s)' % ', '.join(short_repr(o) for o in options)
        return None
    kind = spec.get('type')
    if isinstance(kind, type):
        kind = kind.__name__  # 'type': int, the Python type itself, is the name 'int'
    kind = kind.lower() if isinstance(kind, str) else None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in _WHOLE_TYPES and not (number and float(value).is_integer()):
        return 'it is not a whole number'
    if kind in _NUMBER_TYPES and not number:
        return 'it is not a number'
    if kind in ('str', 'string', 'text') and not isinstance(value, str):
        return 'it is not text'
    if kind in ('bool', 'boolean') and not isinstance(value, bool):
        return 'it is not True or False'
    if number:
        low, high = spec.get('min'), spec.get('max')
        if isinstance(low, (int, float)) and not isinstance(low, bool) and value < low:
            return 'it is below the minimum %s' % short_repr(low)
        if isinstance(high, (int, float)) and not isinstance(high, bool) and value > high:
            return 'it is above the maximum %s' % short_repr(high)
    return None


def declaration_problem(spec):
    """What makes a parameter's declaration unusable for checking a value (a min or max that is not a number, a min
    above its max, options that are not a list), or None. A value can break such a declaration unseen: 'max': 5 with a
    'min': 'ten' beside it was read as no limit at all."""
    if not isinstance(spec, dict):
        return None
    bounds = {}
    for key in ('min', 'max'):
        bound = spec.get(key)
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or bound != bound or bound in (float('inf'), float('-inf')):
            return 'its %s %s is not a finite number' % (key, short_repr(bound))
        bounds[key] = bound
    if 'min' in bounds and 'max' in bounds and bounds['min'] > bounds['max']:
        return 'its min %s is above its max %s, so no value fits' % (short_repr(bounds['min']), short_repr(bounds['max']))
    options = spec.get('options')
    if options is not None and not isinstance(options, (list, tuple)):
        return 'its options %s are not a list' % short_repr(options)
    return None


# What a constructor's first argument is called when it takes the parameters as one dict (OrderBase's `config`).
CONFIG_NAMES = frozenset(['config', 'configuration', 'cfg', 'conf', 'params', 'parameters', 'settings', 'options', 'opts', 'args'])


def constructor_style(init, code, entry, params):
    """
    How a component's constructor takes its parameters: 'config' (one dict, as OrderBase's __init__(self, config)),
    'keywords' (by name, as the shipped MarketOrder(base_size=0.01, urgency='normal')) or 'none'. Read from its
    first argument after self: named like a parameter, by name; named like a config dict (config, params), the dict;
    required in the designed dialect (OrderBase's own), the dict; else by name (`__init__(self, lookback=20)` keeps
    its default, a missing required one is named as a parameter not given). Without one: *args takes the dict in
    the designed dialect (a wrapper's (*args, **kwargs) passed to OrderBase), **kwargs the names.
    """
    if init is object.__init__:
        # No __init__ of its own anywhere (an Order subclass that keeps its settings in class attributes): nothing to
        # hand the parameters to; instantiate says so when there are some.
        return 'none'
    if code is None:
        return 'config' if entry == 'generate_order' else 'keywords'
    positional = code.co_varnames[1:code.co_argcount]
    if not positional:
        if entry == 'generate_order' and code.co_flags & 0x04:
            return 'config'
        return 'keywords' if code.co_flags & 0x08 or entry != 'generate_order' else 'none'
    first = positional[0]
    if first in params:
        return 'keywords'
    if first.lower() in CONFIG_NAMES:
        return 'config'
    defaults = getattr(init, '__defaults__', None) or ()
    if entry == 'generate_order' and len(positional) > len(defaults):
        return 'config'
    return 'keywords'


def dropped_parameters(init, code, entry, params, given, declared):
    """The given parameters (`given`: the request's, not __metadata__'s defaults) that the constructor would never see,
    with the argument names it takes: a constructor taking its parameters by name without **kwargs drops any other
    name, one taking none drops them all. A name __metadata__ declares (`declared`) is not among them: SPtrader reads
    some itself (symbol), and the component may read it elsewhere."""
    if not given or init is object.__init__:
        return [], ()
    style = constructor_style(init, code, entry, params)
    if style == 'config' or code is None or code.co_flags & 0x08:
        return [], ()
    accepted = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount] if style == 'keywords' else ()
    return [k for k in given if k not in accepted and k not in declared], accepted


def dropped_message(names, accepted, class_name, line):
    """What dropped_parameters found, said: each name, what the constructor takes, the nearest of those."""
    import difflib
    near = difflib.get_close_matches(names[0], list(accepted), 1)
    one = len(names) == 1
    return ('the parameter%s %s %s given, but %s.__init__%s takes no such argument (%s) and __metadata__[\'parameters\'] '
            'does not declare %s: %s would be dropped and the component run without %s%s; nothing was sent' % (
                '' if one else 's', ', '.join(repr(n) for n in names), 'was' if one else 'were',
                class_name, ' (line %s)' % line if line is not None else '',
                'it takes %s' % ', '.join(accepted) if accepted else 'it takes none', 'it' if one else 'them',
                'it' if one else 'they', 'it' if one else 'them', " (did you mean '%s'?)" % near[0] if near else ''))
