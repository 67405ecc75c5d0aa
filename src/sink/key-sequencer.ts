/**
 * One write at a time per document, in arrival order. Updates (`doc_as_upsert`) cannot
 * carry the offset as an external version, so Elasticsearch cannot refuse a stale one:
 * if two updates of one key were in flight at once, or one were retried after the next
 * succeeded, the older could land last and win. So the workers admit an ordered write
 * only when no earlier write of the same document is unsettled; later ones wait here,
 * in the order they arrived (offset order, as a partition's records arrive), and the
 * next is released when the one before it is settled (indexed, rejected and handled by
 * the failure policy, dead-lettered): never while it is being retried.
 *
 * Waiting writes still hold their queue budget (they were taken from the queue), so a
 * burst on one key slows intake rather than growing memory.
 */
export class KeySequencer<T> {
  /** Key -> writes waiting behind the one in flight; present while one is in flight. */
  readonly #busy = new Map<string, T[]>();

  /** True when `item` may go now; false when it waits behind an earlier write of `key`. */
  admit(key: string, item: T): boolean {
    const waiting = this.#busy.get(key);
    if (waiting === undefined) {
      this.#busy.set(key, []);
      return true;
    }
    waiting.push(item);
    return false;
  }

  /** The write of `key` in flight was settled: the next one to send, or undefined (the key is free). */
  release(key: string): T | undefined {
    const waiting = this.#busy.get(key);
    if (waiting === undefined) return undefined;
    const next = waiting.shift();
    if (next === undefined) this.#busy.delete(key);
    return next;
  }

  /** Keys with a write in flight (for tests and diagnostics). */
  get size(): number {
    return this.#busy.size;
  }

  /** Writes waiting behind another of their key. */
  get waiting(): number {
    let count = 0;
    for (const items of this.#busy.values()) count += items.length;
    return count;
  }
}
