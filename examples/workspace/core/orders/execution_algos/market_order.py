"""
Market Order in SPtraderB's shipped style: execute(market_state) returning type/size.
Sized as a fraction of capital; urgency picks the reference price.
"""
from datetime import datetime, timezone
from typing import Any, Dict

from core.base.order import Order

__metadata_version__ = 1
__metadata__ = {
    'name': 'market_order',
    'category': 'market',
    'version': '1.0.0',
    'description': 'Simple market order sized as a fraction of capital',
    'author': 'system',
    'status': 'ready',
    'order_types': ['market'],
    'parameters': {
        'base_size': {'type': 'float', 'default': 0.01, 'min': 0.001, 'max': 1.0, 'description': 'Position size as a fraction of capital'},
        'max_slippage': {'type': 'float', 'default': 0.001, 'min': 0.0, 'max': 0.01},
        'urgency': {'type': 'str', 'default': 'normal', 'options': ['passive', 'normal', 'aggressive']},
    },
    'tags': ['simple', 'market', 'immediate'],
}


class MarketOrder(Order):
    def __init__(self, base_size: float = 0.01, max_slippage: float = 0.001, urgency: str = 'normal', **params):
        self.base_size = base_size
        self.max_slippage = max_slippage
        self.urgency = urgency
        self.params = params

    def execute(self, market_state: Dict[str, Any]) -> Dict[str, Any]:
        side = market_state.get('side', 'buy')
        bid, ask = market_state['bid'], market_state['ask']
        capital = market_state.get('capital', 10000.0)
        price = ask if side == 'buy' else bid
        value = capital * self.base_size
        return {
            'type': 'market',
            'symbol': market_state['symbol'],
            'side': side,
            'size': value / price,
            'price': price,
            'value': value,
            'urgency': self.urgency,
            'max_slippage': self.max_slippage,
            'timestamp': datetime.now(timezone.utc),
            'time_in_force': 'IOC' if self.urgency == 'aggressive' else 'GTC',
            'metadata': {'base_size': self.base_size, 'spread_at_order': ask - bid},
        }
