"""
Bracket: enters at market and protects the position at once with a stop-loss and a take-profit,
linked one-cancels-other (the first exit to fill cancels the other). Distances are in pips.

    sptrader algo bracket_entry.py --param stop_pips=20 --param target_pips=40
"""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'bracket_entry',
    'type': 'order',
    'category': 'risk_filters',
    'version': '1.0.0',
    'description': 'Market entry with a stop-loss and a take-profit, one cancels the other',
    'author': 'sptrader',
    'status': 'ready',
    'order_types': ['market', 'stop', 'limit'],
    'inputs': ['market_data', 'signal'],
    'outputs': ['parent_order'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'EUR_USD', 'description': 'Instrument to trade'},
        'quantity': {'type': 'float', 'default': 10000, 'min': 1, 'description': 'Units'},
        'stop_pips': {'type': 'float', 'default': 20, 'min': 1, 'description': 'Stop-loss distance'},
        'target_pips': {'type': 'float', 'default': 40, 'min': 1, 'description': 'Take-profit distance'},
    },
    'tags': ['bracket', 'oco', 'parent'],
}


class BracketEntry(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        pip = 0.0001
        buy = (signal or {}).get('side', 'buy') == 'buy'
        entry = market_data['ask'] if buy else market_data['bid']
        stop = entry - self.config['stop_pips'] * pip if buy else entry + self.config['stop_pips'] * pip
        target = entry + self.config['target_pips'] * pip if buy else entry - self.config['target_pips'] * pip
        return {
            'algo': 'bracket',
            'symbol': market_data.get('symbol', self.config['symbol']),
            'side': 'buy' if buy else 'sell',
            'quantity': self.config['quantity'],
            'stop_loss': round(stop, 5),
            'take_profit': round(target, 5),
        }
