/**
 * What a command remembers in the workspace state (recent replay data, the last replay choices, the venues last
 * compared), read back as what it should be. The state is a file on disk like any other: an older version, an
 * edit or damage can leave another shape there, and `.filter is not a function` stopped Replay Component and
 * Compare Venues before their first picker. A value of another shape reads as nothing remembered.
 */

/** The strings of a remembered list (anything else reads as an empty list). */
export function rememberedStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : [];
}

/** A remembered object of entries, copied (anything else reads as an empty one). */
export function rememberedRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const out: Record<string, unknown> = {};
  // Own entries only, written as data: a key "__proto__" stays a key, never the copy's prototype.
  for (const [k, v] of Object.entries(value))
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** The entry of `record` at `key` when it is its own (never one found through the prototype). */
export function ownEntry(record: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** What a replay of a component remembers: the symbol and the parameters it ran with last. */
export interface LastReplayChoices {
  symbol?: string;
  parameters?: Record<string, unknown>;
}

export function lastReplayChoices(value: unknown): LastReplayChoices {
  const entry = rememberedRecord(value);
  const symbol = ownEntry(entry, 'symbol');
  const parameters = ownEntry(entry, 'parameters');
  return {
    ...(typeof symbol === 'string' ? { symbol } : {}),
    ...(typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)
      ? { parameters: rememberedRecord(parameters) }
      : {}),
  };
}
