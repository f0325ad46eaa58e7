"""
Turns what a component returned into JSON-safe values within a size and a nesting budget.

The budget is counted while walking, in bytes of the compact ASCII JSON the harness sends, and the
walk stops as soon as it is spent: a 10 MB string is refused from its length alone and a million-item
list after the items that fit, so the cost is bounded by the limit, never by what the component made.
Paths are kept as (parent, key) pairs and spelt out only for an error message.
A replay batch's orders are written as JSON text here too, once each, and carried into the answer as they are
(flat_json, ORDER_ITEM, answer_text at the end).

Past 450 lines on purpose: one walk with one budget for every value a component hands back (orders, metadata,
replay answers); split, the budget and the paths it reports would have to cross modules on the hot path.
"""
import re
import sys
import math
from operator import itemgetter

from sptrader_harness import stdlib

try:
    from _json import encode_basestring_ascii as _encode_ascii
except ImportError:  # pragma: no cover - CPython always has the C encoder
    from json.encoder import py_encode_basestring_ascii as _encode_ascii

NONFINITE_KEY = '__sptrader_nonfinite__'
# Python refuses to print integers past 4,300 digits (3.11+) and JSON readers turn past ~1e308 to
# infinity; an order never needs more than this.
MAX_INT_BITS = 1023


class ComponentFailure(Exception):
    def __init__(self, code, message, file=None, line=None, traceback_text=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.traceback_text = traceback_text
        # 1-based, as Python counts them (a SyntaxError's offset and end_offset): where on `line` it is
        self.column = None
        self.end_line = None
        self.end_column = None


class Budget(object):
    """What a value may cost: `limit` bytes of JSON and `max_depth` levels of nesting."""

    __slots__ = ('left', 'limit', 'max_depth', 'what', 'size_code', 'depth_code', 'file', 'narrowed')

    def __init__(self, limit, max_depth, what, size_code, depth_code, file=None):
        # The numpy floats of fewer than 64 bits read, as {path, type, exact, sent} (at most NARROWED_MAX): the value
        # sent is the decimals numpy shows (float16 1.0866 is 1.087), which the run's notes say.
        self.narrowed = None
        self.left = limit
        self.limit = limit
        self.max_depth = max_depth
        self.what = what
        self.size_code = size_code
        self.depth_code = depth_code
        self.file = file

    def spend(self, size, path, detail=None):
        self.left -= size
        if self.left < 0:
            used = self.limit - self.left
            why = ' (%s)' % detail if detail else ''
            raise ComponentFailure(self.size_code, '%s is at least %s bytes as JSON%s, more than the limit of %s bytes, reached at %s; '
                                   'nothing was sent' % (self.what, _grouped(used), why, _grouped(self.limit), format_path(path)), self.file)


# A vowel letter said "you" (UserDict, UUID, Unicode, Utility, Euro) or "won" (OneHot) takes "a"; "un-" said "un"
# (UnknownType, Uninitialized, Undefined) keeps "an".
_YOU_SOUND = re.compile(r'(?i:u(?:ni(?!n)|s[aeiu]|t[aei]|u|r[aeio]|k|func)|eu)|[Oo]ne(?![a-z])')


def article(name):
    """'a' or 'an' before name (a type's name, as an error says it): by how it sounds, not only its first letter."""
    if name[:1].lower() not in 'aeiou' or _YOU_SOUND.match(name):
        return 'a'
    return 'an'


def _grouped(n):
    return '{:,}'.format(n)


def format_path(path):
    parts = []
    while isinstance(path, tuple):
        path, key = path
        parts.append('[%d]' % key if isinstance(key, int) else '.%s' % key)
    parts.reverse()
    return path + ''.join(parts)


def json_safe(value, path, budget, depth=0):
    """`value` as plain JSON types (non-finite floats as {NONFINITE_KEY: 'NaN'|'Infinity'|'-Infinity'})."""
    # Exact built-in types first, with the budget arithmetic inline: this runs on every warm Test Order.
    cls = type(value)
    if cls is str:
        n = len(value)
        if n + 2 > budget.left:
            budget.spend(n + 2, path, '%s is a string of %s characters' % (format_path(path), _grouped(n)))
        budget.left -= len(_encode_ascii(value))
        if budget.left < 0:
            budget.spend(0, path)
        return value
    if cls is float:
        if value != value or value in _INFINITIES:
            return _nonfinite(value, path, budget)
        budget.left -= len(repr(value))
        if budget.left < 0:
            budget.spend(0, path)
        return value
    if cls is int:
        if -_SMALL < value < _SMALL:
            budget.left -= len(repr(value))
            if budget.left < 0:
                budget.spend(0, path)
            return value
        return _integer(value, path, budget)
    if value is None or cls is bool:
        budget.left -= 5
        if budget.left < 0:
            budget.spend(0, path)
        return value
    if depth >= budget.max_depth:
        raise ComponentFailure(budget.depth_code, '%s is nested more than %d levels deep at %s (does a value contain itself?); nothing was sent'
                               % (budget.what, budget.max_depth, format_path(path)), budget.file)
    if cls is dict or cls is list or cls is tuple:
        return _container(value, cls is dict, path, budget, depth)
    return _other(value, path, budget, depth)


_INFINITIES = (float('inf'), float('-inf'))
_SMALL = 10 ** 18


def _nonfinite(value, path, budget):
    budget.spend(40, path)
    if math.isnan(value):
        return {NONFINITE_KEY: 'NaN'}
    return {NONFINITE_KEY: 'Infinity' if value > 0 else '-Infinity'}


def _integer(value, path, budget):
    value = int.__int__(value)
    if value.bit_length() > MAX_INT_BITS:
        raise ComponentFailure('NOT_SERIALIZABLE', 'the integer at %s has %s bits, too large for an order; return a number below 1e308'
                               % (format_path(path), _grouped(value.bit_length())), budget.file)
    # Counted from the bit length: printing a long integer costs more than the whole check.
    budget.spend(value.bit_length() * 30103 // 100000 + 2, path)
    return value


def flat_dict(value, budget):
    """A copy of a dict of str keys and plain scalars (what an order is), with its cost taken from the budget; None
    when it holds anything else or does not fit, for _container to walk and word the failure. It costs exactly what
    the walk would: when the total fits, every check the walk makes on the way passes (each is against a part of it)."""
    spent = 2
    for k, v in value.items():
        if type(k) is not str:
            return None
        cls = type(v)
        if cls is str:
            if len(v) >= budget.left:
                # Its JSON text is longer than that: declined before it is written (an order of megabytes, every record).
                return None
            spent += len(_encode_ascii(v))
        elif cls is float:
            if v != v or v in _INFINITIES:
                return None
            spent += len(repr(v))
        elif cls is int:
            if not -_SMALL < v < _SMALL:
                return None
            spent += len(repr(v))
        elif v is None or cls is bool:
            spent += 5
        else:
            return None
        spent += len(_encode_ascii(k)) + 2
    if spent > budget.left:
        return None
    budget.left -= spent
    return dict(value)


# The JSON text of strings flat_json has met, keys with their ',' and ':' around them: a component's orders repeat the
# same keys and most of the same values (symbol, side, order type) on every record. Bounded in count and length.
_KEY_TEXT = {}
_VALUE_TEXT = {}
_TEXT_ENTRIES = 1024
_TEXT_CHARS = 64
_float_repr = float.__repr__
_int_repr = int.__repr__


def _key_text(k):
    text = ',' + _encode_ascii(k) + ':'
    if len(k) <= _TEXT_CHARS and len(_KEY_TEXT) < _TEXT_ENTRIES:
        _KEY_TEXT[k] = text
    return text


def _value_text(v):
    text = _encode_ascii(v)
    if len(v) <= _TEXT_CHARS and len(_VALUE_TEXT) < _TEXT_ENTRIES:
        _VALUE_TEXT[v] = text
    return text


def flat_json(value, budget):
    """flat_dict's answer as the JSON text the harness sends (compact, ASCII), less its braces: '"a":1,"b":"x"' for
    {'a': 1, 'b': 'x'}, what json's encoder writes for flat_dict(value) (the walk's dict). It takes exactly what
    flat_dict takes from the budget, and declines (None, nothing spent) where flat_dict does. Written once, when the
    record returns it: the text is the answer's snapshot, and a batch item sends it as it is (ORDER_ITEM)."""
    parts = []
    # flat_dict's cost: 2 for the braces, each key's text with a comma and a colon (the first key's comma is cut off
    # the text below), each value's text, and 5 for None and True, which JSON writes in 4.
    extra = 2
    keys = _KEY_TEXT
    texts = _VALUE_TEXT
    for k, v in value.items():
        if k.__class__ is not str:
            return None
        try:
            kt = keys[k]
        except KeyError:
            kt = _key_text(k)
        cls = v.__class__
        if cls is str:
            try:
                vt = texts[v]
            except KeyError:
                if len(v) >= budget.left:
                    # As flat_dict: its JSON text cannot fit, so it is not written.
                    return None
                vt = _value_text(v)
        elif cls is int:
            if not -_SMALL < v < _SMALL:
                return None
            vt = _int_repr(v)
        elif cls is float:
            if v != v or v in _INFINITIES:
                return None
            vt = _float_repr(v)
        elif v is None:
            vt = 'null'
            extra += 1
        elif cls is bool:
            if v:
                vt = 'true'
                extra += 1
            else:
                vt = 'false'
        else:
            return None
        parts += (kt, vt)
    if not parts:
        spent = 2
        text = ''
    else:
        text = ''.join(parts)
        spent = len(text) + extra
        text = text[1:]
    if spent > budget.left:
        return None
    budget.left -= spent
    return text


def _container(value, is_dict, path, budget, depth):
    if is_dict and type(value) is dict:
        flat = flat_dict(value, budget)
        if flat is not None:
            return flat
    return _walk(value, is_dict, path, budget, depth)


def _walk(value, is_dict, path, budget, depth):
    budget.spend(2, path)
    depth += 1
    if is_dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                given = k
                k = _key(k, path, budget)
                # A str subclass key equals its own text: the dict cannot hold that text as a second key beside it.
                if k in out or (not isinstance(given, str) and _has_key(value, k)):
                    # {1: 'a', '1': 'b'}, or a key object whose str() is 'size' beside 'size': JSON keys are text, so
                    # one replaced the other without a word (an order's size became the other key's value).
                    raise ComponentFailure('NOT_SERIALIZABLE', 'two keys of the dict at %s are both %r as text (one of type %s); '
                                           'JSON keys are text, so one would replace the other: give them distinct names'
                                           % (format_path(path), k[:100], type(given).__name__), budget.file)
            child = (path, k)
            n = len(k)
            if n + 4 > budget.left:
                budget.spend(n + 4, child, 'a key of %s characters' % _grouped(n))
            budget.left -= len(_encode_ascii(k)) + 2
            out[k] = json_safe(v, child, budget, depth)
        return out
    out = []
    append = out.append
    for i, v in enumerate(value):
        budget.left -= 1
        append(json_safe(v, (path, i), budget, depth))
    return out


def _has_key(value, k):
    """`k in value`, False when a key's own __eq__ raises on the comparison."""
    try:
        return k in value
    except Exception:
        return False


def _key(k, path, budget):
    if isinstance(k, str):
        return str.__str__(k)
    try:
        k = str(k)
    except Exception as e:
        raise ComponentFailure('NOT_SERIALIZABLE', 'a key in %s could not be turned into a string: %s: %s'
                               % (format_path(path), type(e).__name__, str(e)[:200]), budget.file)
    return k if type(k) is str else str.__str__(k)


def _other(value, path, budget, depth):
    """Subclasses of the JSON types, and the few other types with an obvious JSON form."""
    if isinstance(value, bool):
        return json_safe(bool(value), path, budget, depth)
    if isinstance(value, str):
        return json_safe(str.__str__(value), path, budget, depth)
    if isinstance(value, int):
        return json_safe(int.__int__(value), path, budget, depth)
    if isinstance(value, float):
        return json_safe(float.__float__(value), path, budget, depth)
    if isinstance(value, dict):
        return _container(value, True, path, budget, depth)
    if isinstance(value, (list, tuple)):
        return _container(value, False, path, budget, depth)
    datetime = stdlib.load('datetime')
    decimal = stdlib.load('decimal')
    if isinstance(value, decimal.Decimal):
        # A signalling NaN has no float (ValueError): it is the NaN it stands for, refused as one where it matters.
        return json_safe(float('nan') if value.is_nan() else float(value), path, budget, depth)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return json_safe(value.isoformat(), path, budget, depth)
    if isinstance(value, datetime.timedelta):
        # A duration, whatever its class: pandas' Timedelta has an isoformat() ('P0DT1H0M0S'), which an expires_at
        # then called "not a time", and which no order field means.
        _not_serializable(value, path, budget)
    numpy = _numpy_kind(value)
    if numpy == 'array':
        # A numpy array is its list of items, walked lazily within the budget (a 10M-item array is not copied first).
        return _walk(value, False, path, budget, depth) if value.ndim else json_safe(value[()], path, budget, depth + 1)
    if numpy == 'narrow float':
        # float32 (or float16) 1.1 is 1.100000023841858 as a Python float: the decimals numpy shows for it are the
        # ones the component computed, and what an order's price or quantity should say.
        try:
            sent = float(str(value))
        except ValueError:
            sent = None
        if sent is not None:
            _narrowed(value, sent, path, budget)
            return json_safe(sent, path, budget, depth)
    numbers = stdlib.load('numbers')
    if isinstance(value, numbers.Rational) and not callable(getattr(value, 'item', None)):
        # fractions.Fraction: a whole one stays exact, any other is the float nearest to it.
        return json_safe(int(value) if value.denominator == 1 else float(value), path, budget, depth)
    if numpy is None and type(value).__name__ == 'datetime64' and str(type(value).__module__).startswith('numpy'):
        # A numpy time is UTC by numpy's convention: said with its Z, to the millisecond (.item() gave a naive datetime,
        # read as local time, or past microseconds an int of nanoseconds).
        try:
            text = str(sys.modules['numpy'].datetime_as_string(value, unit='ms', timezone='UTC'))
        except Exception:
            text = None
        if text is not None:
            return json_safe(text, path, budget, depth)
    item = getattr(value, 'item', None)
    if callable(item):
        try:
            converted = item()
        except Exception:
            converted = value
        if converted is not value:
            return json_safe(converted, path, budget, depth + 1)
    isoformat = getattr(value, 'isoformat', None)
    if callable(isoformat):
        try:
            text = str(isoformat())
        except Exception:
            text = None
        if text is not None:
            return json_safe(text, path, budget, depth)
    _not_serializable(value, path, budget)


def _not_serializable(value, path, budget):
    name = type(value).__name__
    raise ComponentFailure('NOT_SERIALIZABLE', 'the value at %s is %s %s, which cannot be sent as JSON; return numbers, strings, lists and dicts%s'
                           % (format_path(path), article(name), name, _conversion_hint(value)), budget.file)


NARROWED_MAX = 10


def _narrowed(value, sent, path, budget):
    """Keeps where a narrow numpy float was read, its type, its exact value and what is sent for it, when they differ."""
    if budget.narrowed is None:
        budget.narrowed = []
    if len(budget.narrowed) >= NARROWED_MAX:
        return
    try:
        exact = float(value)
        kind = str(value.dtype.name)[:20]
    except Exception:
        return
    # The same number either way (float32 1.5) changes nothing to say.
    if exact == exact and exact not in _INFINITIES and exact != sent:
        budget.narrowed.append({'path': format_path(path)[:200], 'type': kind, 'exact': exact, 'sent': sent})


def _numpy_kind(value):
    """'array' for a numpy ndarray, 'narrow float' for a numpy float of fewer than 64 bits, else None (numpy is not
    imported: a value's type says whether it is numpy's)."""
    cls = type(value)
    if not str(getattr(cls, '__module__', '')).startswith('numpy'):
        return None
    try:
        if any(c.__name__ == 'ndarray' and c.__module__ == 'numpy' for c in cls.__mro__):
            return 'array'
        dtype = value.dtype
        if dtype.kind == 'f' and dtype.itemsize < 8:
            return 'narrow float'
    except Exception:
        pass
    return None


def _conversion_hint(value):
    """How to turn an object a component returned into what it should have returned, when its type says so."""
    try:
        import enum
        if isinstance(value, enum.Enum):
            return ' (an Enum member: return its .value, %s)' % repr(value.value)[:80]
        if isinstance(value, stdlib.load('datetime').timedelta):
            return (" (a timedelta is a duration: a time is a datetime, such as datetime.now(timezone.utc) + it, or in a "
                    "replay market_data['timestamp_ms'] + %d; as a number of seconds, its .total_seconds())" % (value.total_seconds() * 1000))
        if isinstance(value, (set, frozenset)):
            return ' (a set: return sorted(...) or list(...) of it)'
        if isinstance(value, (bytes, bytearray)):
            return ' (bytes: return its .decode() or .hex())'
        if hasattr(type(value), '__dataclass_fields__'):
            return ' (a dataclass: return dataclasses.asdict(...) of it)'
        for method in ('to_dict', 'as_dict', 'dict', 'model_dump', 'tolist'):
            if callable(getattr(value, method, None)):
                return ' (it has %s(): return what that gives)' % method
        if isinstance(value, stdlib.load('collections.abc').Mapping):
            # A UserDict, a MappingProxyType, a ChainMap: a dict's keys and values, but not a dict.
            return ' (a mapping: return dict(...) of it)'
    except Exception:
        pass
    return ''


def safe_json(value, root, budget):
    """json_safe with anything unexpected (a broken __str__, a dict whose items() raises) as a clear failure."""
    try:
        return json_safe(value, root, budget)
    except ComponentFailure:
        raise
    except RecursionError:
        raise ComponentFailure(budget.depth_code, '%s is nested too deeply for Python to walk; nothing was sent' % budget.what, budget.file)
    except Exception as e:
        raise ComponentFailure('NOT_SERIALIZABLE', '%s could not be read as JSON: %s: %s' % (budget.what, type(e).__name__, str(e)[:500]), budget.file)


# -- a replay batch's items on the answer channel ------------------------------------------------------------------
# An order that is a flat dict of scalars (what almost every order is) is written as its item's JSON text once, when its
# record returns it (flat_json): that text is the answer's snapshot (what the component does to the dict afterwards
# changes nothing) and its measure against the answer limits, and the answer carries it as it is instead of encoding
# the dict a second time. Every other item stays a dict. The answer's bytes are the same either way: what json's
# encoder writes for the item as a dict.


# An order item as (index, its JSON text): item % (index, flat_json's text, line), or without its line.
ORDER_ITEM = '{"index":%d,"ok":true,"result":{%s},"line":%d}'
ORDER_ITEM_NO_LINE = '{"index":%d,"ok":true,"result":{%s}}'


_second = itemgetter(1)


def item_index(item):
    return item[0] if item.__class__ is tuple else item['index']


def answer_text(response, encode):
    """encode(response) (a JSON encoder's encode: compact separators), with the items of its 'results' list that are
    already text, (index, text), written as they are: the same text json's encoder gives for the response with those
    items as dicts."""
    results = response.get('results')
    kinds = set(map(type, results)) if results else ()
    if tuple not in kinds:
        return encode(response)
    head = {}
    tail = {}
    part = head
    for key, value in response.items():
        if key == 'results':
            part = tail
        else:
            part[key] = value
    if len(kinds) == 1:
        items = ','.join(map(_second, results))
    else:
        items = ','.join([r[1] if r.__class__ is tuple else encode(r) for r in results])
    text = encode(head)[:-1] + (',' if head else '') + '"results":[' + items + ']'
    return text + (',' + encode(tail)[1:] if tail else '}')
