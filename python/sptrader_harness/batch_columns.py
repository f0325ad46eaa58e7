"""
A replay batch's per-record values, sent key by key (src/python/batchColumns.ts encodes them): numbers as
little-endian float64 (or int64) bytes in base64, decoded in one C call instead of parsing JSON text per number. Each
column decodes to exactly what JSON would have given: floats, or ints where JSON writes plain digits.
"""
import binascii
import sys
from array import array


class ColumnError(ValueError):
    pass


def decode_column(column, size, key):
    if not isinstance(column, list) or len(column) < 2 or not isinstance(column[0], str):
        raise ColumnError('column %r is not [kind, data]' % (key,))
    kind, data = column[0], column[1]
    if kind == 'f64' or kind == 'i64':
        if not isinstance(data, str):
            raise ColumnError('column %r: %s data is not base64 text' % (key, kind))
        values = array('d' if kind == 'f64' else 'q')
        values.frombytes(binascii.a2b_base64(data))
        if sys.byteorder != 'little':
            values.byteswap()
        ints = column[2] if len(column) > 2 else None
        if ints is not None:
            if kind != 'f64' or not isinstance(ints, list):
                raise ColumnError('column %r: integer positions are not a list of an f64 column' % (key,))
            values = values.tolist()
            for i in ints:
                values[i] = int(values[i])
        # Otherwise the array itself: iterating it gives the same floats (or ints) as tolist(), each made as its
        # record is, which costs less than making them all first.
    elif kind == 'lines':
        if not isinstance(data, str):
            raise ColumnError('column %r: lines data is not text' % (key,))
        values = data.split('\n') if size > 0 else []
    elif kind == 'json':
        if not isinstance(data, list):
            raise ColumnError('column %r: json data is not a list' % (key,))
        values = data
    else:
        raise ColumnError('column %r has an unknown kind %r' % (key, kind))
    if len(values) != size:
        raise ColumnError('column %r has %d values, the batch %d items' % (key, len(values), size))
    return values


def batch_rows(request, keys):
    """The batch's items as value tuples in `keys` order (an iterable, gone through once), their number, and whether
    every item has exactly one value per key (always so for `columns`; `rows` are JSON lists that may be shorter or
    longer): from `rows`, or `columns`."""
    columns = request.get('columns')
    if columns is None:
        rows = request.get('rows') or []
        width = len(keys)
        return rows, len(rows), all(type(row) is list and len(row) == width for row in rows)
    size = request.get('size')
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ColumnError('a batch of columns needs its size')
    if not isinstance(columns, list) or len(columns) != len(keys):
        raise ColumnError('a batch has %d keys but %s columns' % (len(keys), len(columns) if isinstance(columns, list) else 'no'))
    decoded = [decode_column(c, size, k) for c, k in zip(columns, keys)]
    if not decoded:
        return [()] * size, size, True
    # Each row made as the loop comes to it (every column has `size` values): a batch that ends early makes no more.
    return zip(*decoded), size, True


_MAKERS = {}


def row_filler(template, keys):
    """
    fill(row): a copy of `template` with row's values stored under `keys` in order, what template.copy() updated with
    zip(keys, row) gives for a row of exactly len(keys) values, at about half the cost: the stores are one statement,
    `d[k0], d[k1], ... = row`, compiled once per number of keys (only the count is in the source, never a key).
    """
    width = len(keys)
    make = _MAKERS.get(width)
    if make is None:
        names = ['k%d' % i for i in range(width)]
        lines = ['def make(%s):' % ', '.join(['copy'] + names), '    def fill(row):', '        d = copy()']
        if width:
            lines.append('        %s, = row' % ', '.join('d[%s]' % n for n in names))
        lines += ['        return d', '    return fill', '']
        scope = {}
        exec(compile('\n'.join(lines), '<sptrader_harness row_filler %d>' % width, 'exec'), scope)
        make = _MAKERS[width] = scope['make']
    return make(template.copy, *keys)
