"""
Market order whose own validate_order can stop it. SPtrader calls validate_order on every order
generate_order returns, before anything is sent (in a replay, on every record's order). Here it
stops the order, with the reason, when the spread is wider than max_spread_pips or the order is
worth more than max_notional at the price it would pay.

Compare spread_guarded_market.py, which returns None when the spread is wide: None is "no order
this time" (Test Order exit 0). A veto is a stop with a reason (ORDER_VETOED, the line of the
return that made it; Test Order exit 1, a replay lists it under errors and goes on).
validate_order returns True (or None) to let the order go, or False, (False, 'reason') or
'reason' to stop it; an exception raised in it stops the order too.
"""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'vetoed_market',
    'type': 'order',
    'category': 'risk_filters',
    'version': '1.0.0',
    'description': 'Market order that vetoes itself when the spread is too wide or the order too large',
    'author': 'sptrader',
    'status': 'ready',
    'order_types': ['market'],
    'inputs': ['market_data', 'signal'],
    'outputs': ['order_request'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'EUR_USD', 'description': 'Instrument to trade'},
        'quantity': {'type': 'float', 'default': 10000, 'min': 1, 'description': 'Units to trade'},
        'max_spread_pips': {'type': 'float', 'default': 3.0, 'min': 0.1, 'description': 'Widest spread accepted'},
        'max_notional': {'type': 'float', 'default': 50000, 'min': 1, 'description': 'Largest order value accepted, in the quote currency'},
        'pip_size': {'type': 'float', 'default': 0.0001, 'description': 'Price of one pip'},
    },
    'risk_limits': {'max_position_size': 100000, 'max_order_value': 200000},
    'tags': ['market', 'spread', 'validate_order'],
}


class VetoedMarket(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Dict[str, Any]:
        self.quote = market_data  # validate_order sees only the order: keep the quote it was made from
        side = (signal or {}).get('side', market_data.get('side', 'buy'))
        return {
            'symbol': market_data.get('symbol', self.config['symbol']),
            'side': side,
            'order_type': 'market',
            'quantity': self.config['quantity'],
            'time_in_force': 'IOC',
        }

    def validate_order(self, order: Dict[str, Any]):
        bid, ask = self.quote['bid'], self.quote['ask']
        spread_pips = (ask - bid) / self.config['pip_size']
        if spread_pips > self.config['max_spread_pips']:
            return False, f"spread {spread_pips:.1f} pips is wider than {self.config['max_spread_pips']} pips"
        price = ask if order['side'] == 'buy' else bid
        notional = order['quantity'] * price
        if notional > self.config['max_notional']:
            return False, f"{order['quantity']} units at {price} are worth {notional:,.0f}, more than {self.config['max_notional']:,.0f}"
        return True
