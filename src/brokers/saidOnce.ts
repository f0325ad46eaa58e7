/**
 * Warnings an adapter says once each (an amend made outside SPtrader, a status this version does not know, an amount
 * self-trade prevention took), by key. Bounded: past `max` keys it starts again, so a long session's memory does not
 * grow with every order (a warning may then be said a second time).
 */
export class SaidOnce {
  private readonly said = new Set<string>();

  constructor(private readonly max = 10_000) {}

  /** True the first time `key` is seen: then say it. */
  first(key: string): boolean {
    if (this.said.has(key)) return false;
    if (this.said.size >= this.max) this.said.clear();
    this.said.add(key);
    return true;
  }
}
