// Adapter of the paper venue's OrderBook for the shared seeded workload (/work/shared/bench/orderbook-workload.mjs):
//   node --expose-gc /work/shared/bench/orderbook-workload.mjs --engine bench/orderbook-adapter.mjs
// Needs the compiled book: `npx tsc -p tsconfig.test.json` first.
import { OrderBook } from '../out/src/brokers/paper/book/orderBook.js';

// eslint-disable-next-line no-restricted-exports -- the workload script loads an adapter through its default export
export default function createEngine() {
  let book = new OrderBook();
  return {
    name: 'sptrader OrderBook',
    prepare(maxId) {
      book = new OrderBook({ idCapacity: maxId, orderCapacity: 1 << 15 });
    },
    limit(id, side, price, size) {
      return book.limit(id, side, price, size);
    },
    market(side, size) {
      return book.market(side, size);
    },
    cancel(id) {
      return book.cancel(id);
    },
    depth() {
      return book.depth();
    },
    restingOrders() {
      return book.size;
    },
  };
}
