"""
Moving-average cross on candles: buys when the close crosses above the average of its own recent
closes and sells when it crosses back below. Long or flat, one position of `quantity` at a time.

State lives in the instance (self.closes, self.long): `sptrader replay` keeps one instance for the
whole replay, so the component sees the closes of every bar before. In a one-off Test Order the
instance is new, the history is empty, and it returns None (no order). It assumes its orders fill,
which market orders on the paper venue do.
On tick data (no 'close') it uses the mid.
"""
from collections import deque
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'sma_cross',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Buys when the close crosses above its simple moving average, sells when it crosses below',
    'author': 'sptrader',
    'status': 'ready',
    'order_types': ['market'],
    'inputs': ['market_data'],
    'outputs': ['order_request'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'EUR_USD', 'description': 'Instrument to trade'},
        'quantity': {'type': 'float', 'default': 10000, 'min': 1, 'description': 'Units per trade'},
        'period': {'type': 'int', 'default': 30, 'min': 2, 'description': 'Closes in the moving average'},
    },
    'risk_limits': {'max_position_size': 100000, 'max_order_value': 200000},
    'tags': ['trend', 'moving-average', 'replay'],
}


class SmaCross(OrderBase):
    __version__ = '1.0.0'

    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.period = int(config.get('period', 30))
        self.closes = deque(maxlen=self.period)
        self.total = 0.0
        self.above = None  # was the last close above its average?
        self.long = False

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        close = market_data.get('close')
        if close is None:
            close = (market_data['bid'] + market_data['ask']) / 2
        if len(self.closes) == self.period:
            self.total -= self.closes[0]
        self.closes.append(close)
        self.total += close
        if len(self.closes) < self.period:
            return None
        above = close > self.total / self.period
        crossed = self.above is not None and above != self.above
        self.above = above
        if not crossed:
            return None
        if above and not self.long:
            side = 'buy'
        elif not above and self.long:
            side = 'sell'
        else:
            return None
        self.long = side == 'buy'
        return {
            'symbol': market_data.get('symbol', self.config['symbol']),
            'side': side,
            'order_type': 'market',
            'quantity': self.config['quantity'],
            'metadata': {'sma': round(self.total / self.period, 6)},
        }
