"""
Breakout entry: when price breaks above the current ask by breakout_ticks, buy with a limit
slippage_ticks above the stop (a stop-limit, so a gap never fills at any price).
"""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata__ = {
    'name': 'stop_limit_breakout',
    'type': 'order',
    'category': 'smart_routing',
    'version': '1.0.0',
    'description': 'Stop-limit buy above the market',
    'status': 'ready',
    'order_types': ['stop_limit'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'BTCUSDT'},
        'quantity': {'type': 'float', 'default': 0.05, 'min': 0.00001},
        'tick': {'type': 'float', 'default': 0.01},
        'breakout_ticks': {'type': 'int', 'default': 2500},
        'slippage_ticks': {'type': 'int', 'default': 500},
    },
}


class StopLimitBreakout(OrderBase):
    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Dict[str, Any]:
        tick = self.config['tick']
        stop = market_data['ask'] + self.config['breakout_ticks'] * tick
        return {
            'symbol': market_data['symbol'],
            'side': 'buy',
            'order_type': 'stop_limit',
            'stop_price': round(stop, 2),
            'limit_price': round(stop + self.config['slippage_ticks'] * tick, 2),
            'quantity': self.config['quantity'],
            'time_in_force': 'GTC',
        }
