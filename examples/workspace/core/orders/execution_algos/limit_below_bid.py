"""
Passive entry: a buy limit a few pips below the bid that expires after a while (GTD).
Sent through the to_json envelope, as the design's components do.
"""
import time
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata__ = {
    'name': 'limit_below_bid',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Buy limit offset_pips below the bid, good for expiry_minutes',
    'status': 'ready',
    'order_types': ['limit'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'EUR_USD'},
        'quantity': {'type': 'float', 'default': 5000, 'min': 1},
        'offset_pips': {'type': 'float', 'default': 2.0, 'min': 0},
        'expiry_minutes': {'type': 'float', 'default': 30, 'min': 1},
    },
    'risk_limits': {'max_position_size': 50000},
}


class LimitBelowBid(OrderBase):
    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> str:
        pip = 0.01 if market_data['symbol'].endswith('JPY') else 0.0001
        order = {
            'symbol': market_data['symbol'],
            'side': 'buy',
            'order_type': 'limit',
            'price': round(market_data['bid'] - self.config['offset_pips'] * pip, 5),
            'quantity': self.config['quantity'],
            'time_in_force': 'GTD',
            'expires_at': int(time.time() + self.config['expiry_minutes'] * 60),
        }
        if not self.validate_order(order):
            raise ValueError('order is missing a required field')
        return self.to_json(order)
