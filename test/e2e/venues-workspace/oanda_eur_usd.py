"""OANDA: a market IOC order the e2e venues suite (test/e2e/venues.mjs) sends to the venue's local fake."""
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'oanda_eur_usd',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Buys 100 EUR_USD at market (IOC)',
    'author': 'e2e',
    'status': 'ready',
    'symbol': 'EUR_USD',
    'order_types': ['market'],
    'inputs': ['market_data'],
    'outputs': ['order_request'],
    'parameters': {},
    'tags': ['e2e'],
}


class OandaEurUsd(OrderBase):
    __version__ = '1.0.0'

    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 100, 'time_in_force': 'IOC'}
