import { ConfigError } from "../errors.ts";

export interface BatcherOptions {
  /** Flush when the batch holds this many documents. */
  readonly maxDocuments: number;
  /** Flush before the estimated request body would exceed this many bytes. */
  readonly maxBytes: number;
  /** Flush this long after the first document entered an empty batch. */
  readonly lingerMs: number;
}

/**
 * Groups items into batches by count, bytes and age, whichever limit comes first.
 * Pure: the caller passes the clock (`now`, in ms) and sizes, so tests need no timers.
 * A single item larger than `maxBytes` travels alone rather than being refused:
 * deciding whether it is too large is Elasticsearch's job (413 handling).
 */
export class Batcher<T> {
  readonly #options: BatcherOptions;
  #items: T[] = [];
  #bytes = 0;
  #firstAt = 0;

  constructor(options: BatcherOptions) {
    if (!(options.maxDocuments >= 1) || !(options.maxBytes >= 1) || !(options.lingerMs >= 0)) {
      throw new ConfigError(
        `invalid batch limits: maxDocuments=${options.maxDocuments} maxBytes=${options.maxBytes} lingerMs=${options.lingerMs}`,
      );
    }
    this.#options = options;
  }

  get size(): number {
    return this.#items.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get isEmpty(): boolean {
    return this.#items.length === 0;
  }

  /** Documents and bytes the current batch can still take (at least one item's worth). */
  room(): { documents: number; bytes: number } {
    return {
      documents: this.#options.maxDocuments - this.#items.length,
      bytes: Math.max(1, this.#options.maxBytes - this.#bytes),
    };
  }

  /**
   * Adds one item; returns the batches this completed (zero, one or two: the batch
   * the item did not fit into, then the item's own batch if it alone fills it).
   */
  add(item: T, bytes: number, now: number): T[][] {
    const completed: T[][] = [];
    if (this.#items.length > 0 && this.#bytes + bytes > this.#options.maxBytes) {
      completed.push(this.flush());
    }
    if (this.#items.length === 0) this.#firstAt = now;
    this.#items.push(item);
    this.#bytes += bytes;
    if (this.#items.length >= this.#options.maxDocuments || this.#bytes >= this.#options.maxBytes) {
      completed.push(this.flush());
    }
    return completed;
  }

  /** Milliseconds until the linger limit flushes a non-empty batch; undefined when empty. */
  msUntilDue(now: number): number | undefined {
    if (this.#items.length === 0) return undefined;
    return Math.max(0, this.#firstAt + this.#options.lingerMs - now);
  }

  isDue(now: number): boolean {
    return this.msUntilDue(now) === 0;
  }

  /** Takes the current batch, whatever its size (empty when nothing is pending). */
  flush(): T[] {
    const batch = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return batch;
  }
}
