/**
 * A Map and a Set for keys that come and go all day (an entry per order, deleted when the order is done), which start
 * a new table now and then.
 *
 * Why: a Map or Set grows, compacts and shrinks by replacing its hash table, and V8 leaves the replaced table pointing
 * at its successor and at the entries it held (so that an iterator taken earlier can carry on). Once one table of a
 * long-lived Map has reached the old generation (every full collection promotes the live tables), that table, dead,
 * keeps each later table and every entry they held alive for the young-generation collector until the next full
 * collection: each scavenge copies those entries, and the second promotes them. With an entry per order, every order's
 * objects were copied twice and promoted (BENCHMARKS.md, twenty-first stop: the engine's Maps and Sets of in-flight
 * orders promoted ~500 bytes an order that nothing held any more). A fresh Map after as many deletions as it holds
 * entries (at least RENEW_AFTER) ends the chain: the old one is left unchanged, so its chain stops growing and dies
 * with the next full collection; the young tables that follow are replaced while young.
 *
 * Iteration hands out copies (arrays): an iterator taken before a renewal would go on over the old table and miss
 * the deletions made after it. `forEach` visits without a copy, for callers that change nothing while it runs.
 */
const RENEW_AFTER = 1024;

export class ChurnMap<K, V> {
  private map = new Map<K, V>();
  private deletes = 0;

  constructor(entries?: Iterable<readonly [K, V]>) {
    if (entries) for (const [k, v] of entries) this.map.set(k, v);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): this {
    this.map.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (!this.map.delete(key)) return false;
    if (++this.deletes >= RENEW_AFTER && this.deletes >= this.map.size) {
      this.deletes = 0;
      this.map = new Map(this.map);
    }
    return true;
  }

  /** Empties the map (into a new table: `Map.clear` links the old one to it too). */
  clear(): void {
    this.map = new Map();
    this.deletes = 0;
  }

  keys(): K[] {
    return [...this.map.keys()];
  }

  values(): V[] {
    return [...this.map.values()];
  }

  entries(): Array<[K, V]> {
    return [...this.map.entries()];
  }

  /** Visits every entry, without a copy: `visit` must not add or delete entries. */
  forEach(visit: (value: V, key: K) => void): void {
    this.map.forEach(visit);
  }
}

export class ChurnSet<T> {
  private set = new Set<T>();
  private deletes = 0;

  get size(): number {
    return this.set.size;
  }

  has(value: T): boolean {
    return this.set.has(value);
  }

  add(value: T): this {
    this.set.add(value);
    return this;
  }

  delete(value: T): boolean {
    if (!this.set.delete(value)) return false;
    if (++this.deletes >= RENEW_AFTER && this.deletes >= this.set.size) {
      this.deletes = 0;
      this.set = new Set(this.set);
    }
    return true;
  }

  /** Empties the set (into a new table, as `ChurnMap.clear`). */
  clear(): void {
    this.set = new Set();
    this.deletes = 0;
  }

  values(): T[] {
    return [...this.set];
  }

  /** Visits every value, without a copy: `visit` must not add or delete values. */
  forEach(visit: (value: T) => void): void {
    for (const value of this.set) visit(value);
  }
}
