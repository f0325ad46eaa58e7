"""
Base class for all order components
"""
from abc import ABC, abstractmethod
from typing import Dict, Optional, Any
import json

class OrderBase(ABC):
    """
    Base class that all order components must inherit from
    """

    def __init__(self, config: Dict[str, Any]):
        self.config = config

    @abstractmethod
    def generate_order(self, market_data: Dict[str, Any], signal: Optional[Dict] = None) -> Dict[str, Any]:
        """
        Generate an order based on market data and optional signal

        Args:
            market_data: Current market state including bid, ask, last price
            signal: Optional signal that triggered this order

        Returns:
            Order specification dictionary
        """
        pass

    def validate_order(self, order: Dict[str, Any]) -> bool:
        """
        Validate order before submission

        SPtrader calls an override of this after every generate_order that returns an order (the
        order inside a to_json envelope), before anything is sent. Return True (or None) to let
        the order go; False, (False, 'reason') or 'reason' to stop it (ORDER_VETOED: nothing is
        sent). An exception raised here stops it too. This default checks the four required
        fields, which SPtrader's own validation also does, so it is not called by SPtrader.
        """
        required_fields = ['symbol', 'side', 'order_type', 'quantity']
        return all(field in order for field in required_fields)

    def to_json(self, order: Dict[str, Any]) -> str:
        """
        Convert order to JSON for transmission to the execution engine

        Numbers from numpy (int64, float32, arrays) and decimal.Decimal are written as plain JSON numbers and
        lists (json.dumps alone raises TypeError: Object of type int64 is not JSON serializable), and a datetime
        (an expires_at) as ISO 8601, as SPtrader reads them in a returned dict; anything else json cannot write
        still raises that TypeError.
        """
        return json.dumps({
            'type': 'order_request',
            'order': order,
            'metadata': {
                'component': self.__class__.__name__,
                'version': getattr(self, '__version__', '1.0')
            }
        }, default=_plain_number)


def _plain_number(value: Any) -> Any:
    """json.dumps's fallback in to_json: a numpy number, array or bool, or a Decimal, as the plain value it holds; a
    datetime, date or time (numpy's datetime64 too, which is UTC) as ISO 8601."""
    import datetime
    import decimal
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        # An expires_at as a datetime, written as SPtrader reads one returned in a dict: ISO 8601.
        return value.isoformat()
    if type(value).__name__ == 'datetime64' and type(value).__module__.startswith('numpy'):
        import numpy
        return str(numpy.datetime_as_string(value, unit='ms', timezone='UTC'))
    if type(value).__module__.startswith('numpy'):
        if hasattr(value, 'tolist') and getattr(value, 'ndim', 0) > 0:
            return value.tolist()
        dtype = getattr(value, 'dtype', None)
        if getattr(dtype, 'kind', None) == 'f' and getattr(dtype, 'itemsize', 8) < 8:
            # float32 1.1 is 1.100000023841858 as a Python float: written as the decimals numpy shows for it.
            return float(str(value))
        if hasattr(value, 'item'):
            return value.item()
    raise TypeError('Object of type %s is not JSON serializable' % type(value).__name__)

# Example metadata format
__metadata__ = {
    'name': 'order_base',
    'type': 'order',
    'category': 'base',
    'description': 'Base class for order components',
    'inputs': ['market_data', 'signal'],
    'outputs': ['order_request'],
    'parameters': {},
    'risk_limits': {
        'max_position_size': 10000,
        'max_order_value': 100000
    }
}
