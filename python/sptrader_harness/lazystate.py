"""
market_data whose state-dependent value (replay's `capital`) is asked of SPtrader only when read.

In a replay batch the component runs over many records in one round trip. What the records carry from the
data (bid, ask, candles, times) is known ahead; what depends on the account (capital = buying power) is
known only up to the component's first order of the batch, because that order fills (or rests) before the
next record runs. After it, a record's market_data is a LazyState: its state key is absent until read, and
reading it (or anything that could show it: iteration, copies, repr, comparison, JSON) asks Node for the
value at that record (`fetch`), which Node computes after submitting the orders of the records before.
So a component sees exactly what it would have seen run one record at a time, and never runs twice: its
instance state (`self`) is never rolled back.

A component that keeps the dict (or a view of it) past its call is noticed by its reference count when the
call ends; the value is then fetched at once, at its own record, so a later read sees the right value.
One known difference from a plain dict: `type(market_data) is dict` is False (isinstance holds).
"""
import json
import sys
from sptrader_harness import stdlib, watchdog
from sptrader_harness.safejson import item_index

# Bound once, as server.py does: a component that rebinds json.loads, or patches JSONDecoder's methods, must not change
# how replies are read.
_decode = type('_Decoder', (json.JSONDecoder,), {'decode': json.JSONDecoder.decode, 'raw_decode': json.JSONDecoder.raw_decode})().decode


class LazyState(dict):
    """Made by StateSync.market_data, which sets its slots. It has no __init__ of its own: LazyState(base) is dict's
    copy in C, which a Python __init__ calling dict.__init__ would double in cost, and after a replay batch's first
    order every record is one."""

    __slots__ = ('_key', '_fetch', '_index')

    def resolve(self):
        """Fetches the state value now (once), keeping the key's place at the end as a plain market_data has it."""
        fetch = self._fetch
        if fetch is not None:
            self._fetch = None
            dict.__setitem__(self, self._key, fetch(self._index))

    @property
    def pending(self):
        return self._fetch is not None

    def __missing__(self, key):
        if key == self._key and self._fetch is not None:
            self.resolve()
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def get(self, key, default=None):
        if key == self._key:
            self.resolve()
        return dict.get(self, key, default)

    def __contains__(self, key):
        if key == self._key and self._fetch is not None:
            return True
        return dict.__contains__(self, key)

    def __setitem__(self, key, value):
        if key == self._key:
            self._fetch = None
        elif self._fetch is not None and not dict.__contains__(self, key):
            # A new key goes after the state key, as in a plain market_data.
            self.resolve()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        if key == self._key and self._fetch is not None:
            self._fetch = None
            return
        dict.__delitem__(self, key)

    def pop(self, key, *default):
        self.resolve()
        return dict.pop(self, key, *default)

    def setdefault(self, key, default=None):
        self.resolve()
        return dict.setdefault(self, key, default)

    def update(self, *args, **kwargs):
        self.resolve()
        dict.update(self, *args, **kwargs)

    def __ior__(self, other):
        self.resolve()
        dict.update(self, other)
        return self

    def popitem(self):
        self.resolve()
        return dict.popitem(self)

    def clear(self):
        self._fetch = None
        dict.clear(self)

    def __iter__(self):
        self.resolve()
        return dict.__iter__(self)

    def __reversed__(self):
        self.resolve()
        return dict.__reversed__(self)

    def __len__(self):
        self.resolve()
        return dict.__len__(self)

    def keys(self):
        self.resolve()
        return dict.keys(self)

    def values(self):
        self.resolve()
        return dict.values(self)

    def items(self):
        self.resolve()
        return dict.items(self)

    def copy(self):
        self.resolve()
        return dict(dict.items(self))

    def __repr__(self):
        self.resolve()
        return dict.__repr__(self)

    def __eq__(self, other):
        self.resolve()
        if isinstance(other, LazyState):
            other.resolve()
        return dict.__eq__(self, other)

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __or__(self, other):
        self.resolve()
        return dict.__or__(dict(dict.items(self)), other)

    def __ror__(self, other):
        self.resolve()
        return dict.__or__(dict(other), dict(dict.items(self)))

    def __reduce_ex__(self, protocol):
        self.resolve()
        return (dict, (dict(dict.items(self)),))

    def __reduce__(self):
        return self.__reduce_ex__(2)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        copy = stdlib.load('copy')
        self.resolve()
        return copy.deepcopy(dict(dict.items(self)), memo)


class StateSyncError(Exception):
    """Node answered a state request with an abort (its side failed), or not as the protocol says."""

    def __init__(self, message, protocol=False):
        Exception.__init__(self, message)
        self.protocol = protocol


# sys.getrefcount of a market_data nobody else holds, seen from StateSync.after: the caller's local, after's
# parameter, getrefcount's argument.
_UNHELD_REFS = 3


class StateSync(object):
    """
    One run_batch's state key (request['state'] = {key, values, until}): `values[min(i, len - 1)]` is the
    value at batch record i < until while the component has returned no order since the last sync. Past
    that, market_data is a LazyState whose read sends `{"id", "sync": i, "results": [...]}` on the answer
    channel (the items of records before i not sent yet) and waits for `{"op": "sync", "id", "values",
    "until"}` (or "abort") on the request channel: the values from record i on, in the same form.
    """

    def __init__(self, server, rid, spec, results, size):
        if not isinstance(spec, dict) or not isinstance(spec.get('key'), str):
            raise StateSyncError('the request\'s state must be {key, values, until}', True)
        self.server = server
        self.rid = rid
        self.key = spec['key']
        self.results = results
        self.size = size
        self.syncs = 0
        self.failed = None
        self.clean = True
        self.set_column(0, spec)

    def set_column(self, base, spec):
        values = spec.get('values')
        until = spec.get('until')
        if not isinstance(values, list) or not isinstance(until, int) or isinstance(until, bool) or until < 0 or (until > 0 and not values):
            raise StateSyncError('state values must be a list and until a whole number >= 0 (until > 0 needs a value)', True)
        self.base = base
        self.values = values
        self.last = len(values) - 1
        self.until = base + until
        self.clean = True

    def market_data(self, market_data, index):
        if self.clean and index < self.until:
            market_data[self.key] = self.values[min(index - self.base, self.last)]
            return market_data
        # A copy of market_data whose key is fetched (fetch(index)) when first read.
        state = LazyState(market_data)
        state._key = self.key
        state._fetch = self.fetch
        state._index = index
        return state

    def after(self, market_data, index, ordered=False):
        """After record `index` ran: a lazy market_data the component kept gets its value now; an order (`ordered`: the
        record answered an item that is not an error) ends the column."""
        if self.failed is not None:
            raise self.failed
        if type(market_data) is LazyState and market_data.pending and sys.getrefcount(market_data) > _UNHELD_REFS:
            market_data.resolve()
        if self.failed is not None:
            raise self.failed
        if ordered:
            self.clean = False

    def fetch(self, index):
        try:
            return self.exchange(index)
        except StateSyncError as e:
            # Kept: a component that catches every exception must not carry on past a failed exchange.
            self.failed = e
            raise

    def exchange(self, index):
        from sptrader_harness import processes
        if not processes.in_harness():
            processes.leave_if_forked()
        results = self.results
        sent = [r for r in results if item_index(r) < index]
        kept = [r for r in results if item_index(r) >= index]
        self.syncs += 1
        # The per-record time limit (watchdog.py) never cuts the exchange, nor counts SPtrader's time in it.
        with watchdog.paused():
            self.server.send({'id': self.rid, 'sync': index, 'results': sent})
            del results[:]
            results.extend(kept)
            raw = self.server.proto_in.readline()
        if not raw:
            raise StateSyncError('the request channel closed during a state request', True)
        try:
            reply = _decode(raw.decode('utf-8'))
        except ValueError as e:
            raise StateSyncError('bad state reply: %s' % e, True)
        if not isinstance(reply, dict) or reply.get('op') != 'sync' or reply.get('id') != self.rid:
            raise StateSyncError('expected the state reply to request %s, got %s' % (self.rid, raw[:200]), True)
        if reply.get('abort') is not None:
            raise StateSyncError('SPtrader stopped the batch: %s' % reply.get('abort'))
        self.set_column(index, reply)
        if self.until <= index:
            raise StateSyncError('the state reply gave no value for record %d' % index, True)
        return self.values[0]
