"""Alpaca: a market IOC order the e2e venues suite (test/e2e/venues.mjs) sends to the venue's local fake."""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'alpaca_aapl',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Buys 1 AAPL at market (IOC)',
    'author': 'e2e',
    'status': 'ready',
    'symbol': 'AAPL',
    'order_types': ['market'],
    'inputs': ['market_data'],
    'outputs': ['order_request'],
    'parameters': {},
    'tags': ['e2e'],
}


class AlpacaAapl(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        return {'symbol': 'AAPL', 'side': 'buy', 'order_type': 'market', 'quantity': 1, 'time_in_force': 'IOC'}
