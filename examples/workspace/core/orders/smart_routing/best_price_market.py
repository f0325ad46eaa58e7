"""
Best-price routing: asks the engine to send a market order to whichever of the listed venues offers
the better price net of fees right now. The engine quotes every venue at once, skips (and says why)
one that cannot take the order, sends to the best through the usual checks, and records why.

Run it with several venues, e.g. the paper venue and an OANDA practice profile:
    sptrader test-order best_price_market.py --venues paper,oanda-practice --profiles profiles.json
"""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'best_price_market',
    'type': 'order',
    'category': 'smart_routing',
    'version': '1.0.0',
    'description': 'Market order routed to the venue with the best price net of fees',
    'author': 'sptrader',
    'status': 'ready',
    'order_types': ['market'],
    'inputs': ['market_data', 'signal'],
    'outputs': ['order_request'],
    'parameters': {
        'symbol': {'type': 'str', 'default': 'EUR_USD', 'description': 'Instrument to trade'},
        'quantity': {'type': 'float', 'default': 10000, 'min': 1, 'description': 'Units to trade'},
        'venues': {'type': 'str', 'default': 'paper,oanda-practice', 'description': 'Venue ids to choose among, comma separated'},
    },
    'tags': ['routing', 'market'],
}


class BestPriceMarket(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        side = (signal or {}).get('side', market_data.get('side', 'buy'))
        return {
            'route': 'best_price',
            'venues': [v.strip() for v in str(self.config['venues']).split(',') if v.strip()],
            'symbol': market_data.get('symbol', self.config['symbol']),
            'side': side,
            'order_type': 'market',
            'quantity': self.config['quantity'],
            'time_in_force': 'IOC',
        }
