/**
 * Compiled schemas by id, bounded. A hit is one Map lookup and one flag write (it runs
 * for every framed record); eviction is "second chance" (CLOCK): an entry read since the
 * last sweep gets another round, so the schemas in use stay and the ones no longer
 * produced are dropped first. An evicted schema is simply fetched again when needed.
 */
import { ConfigError } from "../../errors.ts";

interface Entry<V> {
  readonly value: V;
  used: boolean;
}

export class SchemaCache<V> {
  readonly #max: number;
  readonly #entries = new Map<number, Entry<V>>();

  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new ConfigError(`schema cache size must be a positive integer, got ${String(maxEntries)}`);
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: number): V | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  has(id: number): boolean {
    return this.#entries.has(id);
  }

  /** Adds (or replaces) `id`, evicting one entry when full; returns the evicted id, if any. */
  set(id: number, value: V): number | undefined {
    let evicted: number | undefined;
    if (!this.#entries.has(id) && this.#entries.size >= this.#max) evicted = this.#evictOne();
    this.#entries.set(id, { value, used: false });
    return evicted;
  }

  /** Sweeps in insertion order: used entries lose their flag and go to the back, the first unused one goes. */
  #evictOne(): number | undefined {
    // Two passes at most: after the first, every flag is cleared.
    for (let pass = 0; pass < 2 * this.#entries.size + 1; pass++) {
      const first = this.#entries.entries().next();
      if (first.done === true) return undefined;
      const [id, entry] = first.value;
      this.#entries.delete(id);
      if (!entry.used) return id;
      entry.used = false;
      this.#entries.set(id, entry);
    }
    return undefined;
  }
}
