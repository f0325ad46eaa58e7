"""
Market order with a spread guard: buys or sells a fixed size at market, but only when the
spread is tight enough. When the spread is too wide it returns None: no order this time.
"""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'spread_guarded_market',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Market order that stands aside when the spread is wider than max_spread_pips',
    'author': 'sptrader',
    'status': 'ready',
    'order_types': ['market'],
    'inputs': ['market_data', 'signal'],
    'outputs': ['order_request'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'EUR_USD', 'description': 'Instrument to trade'},
        'quantity': {'type': 'float', 'default': 10000, 'min': 1, 'description': 'Units to trade'},
        'max_spread_pips': {'type': 'float', 'default': 3.0, 'min': 0.1, 'description': 'Widest spread accepted'},
        'pip_size': {'type': 'float', 'default': 0.0001, 'description': 'Price of one pip'},
    },
    'risk_limits': {'max_position_size': 100000, 'max_order_value': 200000},
    'tags': ['market', 'spread'],
}


class SpreadGuardedMarket(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        bid, ask = market_data['bid'], market_data['ask']
        spread_pips = (ask - bid) / self.config['pip_size']
        side = (signal or {}).get('side', market_data.get('side', 'buy'))
        print(f"spread {spread_pips:.1f} pips, limit {self.config['max_spread_pips']} pips")
        if spread_pips > self.config['max_spread_pips']:
            return None
        return {
            'symbol': market_data.get('symbol', self.config['symbol']),
            'side': side,
            'order_type': 'market',
            'quantity': self.config['quantity'],
            'time_in_force': 'IOC',
            'metadata': {'spread_pips': round(spread_pips, 2)},
        }
