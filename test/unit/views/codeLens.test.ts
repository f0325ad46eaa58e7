import assert from 'node:assert/strict';
import { findOrderClasses, isNotAComponentFile, isOrderBase } from '../../../src/views/orderClassScan';

describe('CodeLens order class detection', () => {
  it('finds a class deriving from Order and from OrderBase, with zero-based lines', () => {
    const text = [
      'from core.base.order import Order',
      '',
      'class MarketOrder(Order):',
      '    pass',
      '',
      'class Limit(OrderBase):',
      '    pass',
    ].join('\n');
    assert.deepEqual(
      findOrderClasses(text).map((c) => [c.className, c.line]),
      [
        ['MarketOrder', 2],
        ['Limit', 5],
      ],
    );
  });

  it('accepts dotted, subscripted and multiple bases, and ignores keyword arguments', () => {
    const text = [
      'class A(core.base.order.Order): pass',
      'class B(Mixin, OrderBase[dict], metaclass=ABCMeta): pass',
      'class C(order_base.OrderBase):',
      '    pass',
    ].join('\n');
    const found = findOrderClasses(text);
    assert.deepEqual(
      found.map((c) => c.className),
      ['A', 'B', 'C'],
    );
    assert.deepEqual(found[1]?.bases, ['Mixin', 'OrderBase[dict]']);
  });

  it('follows bases written over several lines and reports the class line', () => {
    const text = ['', 'class Spread(', '    Helper,  # a mixin', '    Order,', '):', '    pass'].join('\r\n');
    assert.deepEqual(findOrderClasses(text), [{ className: 'Spread', line: 1, bases: ['Helper', 'Order'] }]);
  });

  it('skips classes with other bases, without bases, and names that only contain Order', () => {
    const text = [
      'class Plain:',
      'class Other(object):',
      'class X(OrderBook):',
      'class Y(MyOrder):',
      'class Z(orders.OrderBaseline):',
      '    def f(self): return Order',
    ].join('\n');
    assert.deepEqual(findOrderClasses(text), []);
  });

  it('ignores class-like text inside docstrings and comments', () => {
    const text = [
      '"""',
      'class Fake(Order):',
      '"""',
      '# class Commented(Order):',
      "x = '''class Str(Order):'''",
      'class Real(Order):',
      '    pass',
    ].join('\n');
    assert.deepEqual(
      findOrderClasses(text).map((c) => c.className),
      ['Real'],
    );
  });

  it('finds indented (nested) classes and ignores unbalanced headers', () => {
    const text = ['def factory():', '    class Inner(Order):', '        pass', 'class Broken(Order'].join('\n');
    assert.deepEqual(
      findOrderClasses(text).map((c) => [c.className, c.line]),
      [['Inner', 1]],
    );
  });

  it('follows same-file inheritance past an abstract intermediate and a mixin, as the harness finds the component', () => {
    const text = [
      'from abc import abstractmethod',
      'from core.orders.order_base import OrderBase',
      'class Sizer:',
      '    def size(self): return 1000',
      'class Abstract(OrderBase):',
      '    """Chooses the side."""',
      '',
      '    @abstractmethod',
      '    def pick_side(self): ...',
      'class Mid(Sizer, Abstract):',
      '    pass',
      'class Leaf(Mid):',
      "    def pick_side(self): return 'sell'",
      'class Unrelated(Sizer):',
      '    pass',
    ].join('\n');
    assert.deepEqual(
      findOrderClasses(text).map((c) => [c.className, c.line]),
      [['Leaf', 11]],
    );
  });

  it('isOrderBase reads the last dotted segment before any subscript', () => {
    assert.equal(isOrderBase('Order'), true);
    assert.equal(isOrderBase('a.b.OrderBase'), true);
    assert.equal(isOrderBase('OrderBase[Any]'), true);
    assert.equal(isOrderBase('Orders'), false);
    assert.equal(isOrderBase('Order.Sub'), false);
  });

  it('knows the files the component contract says are not components (test_*.py, __init__.py)', () => {
    for (const p of [
      '/ws/core/orders/execution_algos/test_market.py',
      'C:\\ws\\orders\\TEST_x.py',
      '/ws/core/orders/__init__.py',
    ])
      assert.equal(isNotAComponentFile(p), true, p);
    for (const p of [
      '/ws/core/orders/execution_algos/market.py',
      '/ws/contest_entry.py',
      '/ws/test_data/market.py',
      '/ws/mytest_x.py',
    ])
      assert.equal(isNotAComponentFile(p), false, p);
  });
});
