"""
The spread guard written with `async def generate_order`: SPtrader runs the coroutine to its end before it
reads the order. Use it to await your own async code (a client for a signal service, a websocket feed):
the worker keeps one event loop for its life, so what you create on it (here an asyncio.Lock and the last
quotes seen) is still usable on the next run. Kept to the standard library and off the network, as an
example must be.
"""
import asyncio
from typing import Any, Dict, Optional

from core.orders.order_base import OrderBase

__metadata_version__ = 2
__metadata__ = {
    'name': 'async_spread_guard',
    'type': 'order',
    'category': 'execution_algos',
    'version': '1.0.0',
    'description': 'Market order that stands aside when the spread is wide, written as a coroutine',
    'author': 'sptrader',
    'status': 'ready',
    'order_types': ['market'],
    'inputs': ['market_data', 'signal'],
    'outputs': ['order_request'],
    'parameters': {
        'quantity': {'type': 'float', 'default': 10000, 'min': 1, 'description': 'Units to trade'},
        'max_spread_pips': {'type': 'float', 'default': 3.0, 'min': 0.1, 'description': 'Widest spread accepted'},
        'pip_size': {'type': 'float', 'default': 0.0001, 'description': 'Price of one pip'},
    },
    'tags': ['market', 'spread', 'async'],
}

# Made on the worker's event loop at the first run and used by every later one.
_lock: Optional[asyncio.Lock] = None
_recent_spreads = []


async def recent_spreads(spread_pips: float) -> list:
    """Stands for an async client of your own: remembers the last ten spreads, one run at a time."""
    global _lock
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        await asyncio.sleep(0)
        _recent_spreads.append(spread_pips)
        del _recent_spreads[:-10]
        return list(_recent_spreads)


class AsyncSpreadGuard(OrderBase):
    __version__ = '1.0.0'

    async def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Optional[Dict[str, Any]]:
        spread_pips = (market_data['ask'] - market_data['bid']) / self.config['pip_size']
        seen = await recent_spreads(spread_pips)
        if spread_pips > self.config['max_spread_pips']:
            return None
        return {
            'symbol': market_data['symbol'],
            'side': (signal or {}).get('side', market_data.get('side', 'buy')),
            'order_type': 'market',
            'quantity': self.config['quantity'],
            'time_in_force': 'IOC',
            'metadata': {'spread_pips': round(spread_pips, 2), 'spreads_seen': len(seen)},
        }
