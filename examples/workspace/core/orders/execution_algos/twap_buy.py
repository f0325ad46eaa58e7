"""
TWAP: buys a total quantity in equal slices spread over a duration, so no single order moves the
market. The engine sends each slice as its own order (risk checks and the audit log for each) and
the last slice takes whatever earlier ones missed.

    sptrader algo twap_buy.py --param quantity=40000 --param duration_s=60 --param slices=4
"""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'twap_buy',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Time-weighted average price: a quantity in equal slices over a duration',
    'author': 'sptrader',
    'status': 'ready',
    'order_types': ['market', 'limit'],
    'inputs': ['market_data', 'signal'],
    'outputs': ['parent_order'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'EUR_USD', 'description': 'Instrument to trade'},
        'quantity': {'type': 'float', 'default': 40000, 'min': 1, 'description': 'Total units'},
        'duration_s': {'type': 'float', 'default': 60, 'min': 1, 'description': 'Seconds to spread it over'},
        'slices': {'type': 'int', 'default': 4, 'min': 1, 'max': 1000, 'description': 'Number of slices'},
        'max_spread_pips': {'type': 'float', 'default': 3.0, 'min': 0.1, 'description': 'Stand aside above this spread'},
    },
    'tags': ['twap', 'parent'],
}


class TwapBuy(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        if (market_data['ask'] - market_data['bid']) / 0.0001 > self.config['max_spread_pips']:
            return None
        return {
            'algo': 'twap',
            'symbol': market_data.get('symbol', self.config['symbol']),
            'side': (signal or {}).get('side', 'buy'),
            'quantity': self.config['quantity'],
            'duration_s': self.config['duration_s'],
            'slices': int(self.config['slices']),
        }
