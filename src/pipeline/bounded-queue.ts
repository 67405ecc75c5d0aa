/**
 * The buffer between the Kafka reader and the bulk workers, bounded in records and in
 * bytes.
 *
 * A record counts against the limits from `push()` until it is `release()`d, i.e.
 * settled, not merely taken: records inside a bulk request that is being retried still
 * hold memory, so the budget covers them too and memory stays bounded however long
 * Elasticsearch refuses work.
 *
 * `push()` never refuses: the reader hands over a whole fetched batch (kafkajs must get
 * its `eachBatch` back quickly), then pauses the consumer while `saturated` is true. So
 * the queue may exceed its limits by about one batch per partition fetched concurrently.
 * Saturation has hysteresis (set at the limits, cleared at the low watermark) so the
 * consumer does not flap between pause and resume.
 */
import { ConfigError } from "../errors.ts";

export interface BoundedQueueOptions {
  /** Records outstanding (waiting + in flight) at which the queue is saturated. */
  readonly maxRecords: number;
  /** Bytes outstanding at which the queue is saturated. */
  readonly maxBytes: number;
  /** Saturation clears once records and bytes are both at or below this share of their limits. */
  readonly lowWatermarkRatio: number;
}

type Waiter = () => void;

const INITIAL_CAPACITY = 1024;
const MAX_TIMER_MS = 2_147_483_647;

export class BoundedQueue<T> {
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #lowRecords: number;
  readonly #lowBytes: number;
  readonly #sizeOf: (item: T) => number;

  // Ring buffer (capacity is a power of two) so push and take are O(1) amortized at
  // tens of thousands of records per second; Array#shift on a long array is not.
  #items: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY);
  #sizes: number[] = new Array<number>(INITIAL_CAPACITY).fill(0);
  #head = 0;
  #length = 0;

  #waitingBytes = 0;
  #outstanding = 0;
  #outstandingBytes = 0;
  #saturated = false;

  readonly #saturationListeners = new Set<(saturated: boolean) => void>();
  readonly #itemWaiters = new Set<Waiter>();
  readonly #drainWaiters = new Set<Waiter>();

  constructor(options: BoundedQueueOptions, sizeOf: (item: T) => number) {
    const { maxRecords, maxBytes, lowWatermarkRatio } = options;
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) {
      throw new ConfigError(`queue maxRecords must be a positive integer, got ${String(maxRecords)}`);
    }
    if (!Number.isFinite(maxBytes) || maxBytes < 1) {
      throw new ConfigError(`queue maxBytes must be a positive number, got ${String(maxBytes)}`);
    }
    if (!(lowWatermarkRatio >= 0 && lowWatermarkRatio < 1)) {
      throw new ConfigError(`queue lowWatermarkRatio must be in [0, 1), got ${String(lowWatermarkRatio)}`);
    }
    this.#maxRecords = maxRecords;
    this.#maxBytes = maxBytes;
    this.#lowRecords = Math.floor(maxRecords * lowWatermarkRatio);
    this.#lowBytes = maxBytes * lowWatermarkRatio;
    this.#sizeOf = sizeOf;
  }

  /** Items in the queue, not yet taken. */
  get waiting(): number {
    return this.#length;
  }

  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** Items pushed and not yet released: waiting plus in flight. */
  get outstanding(): number {
    return this.#outstanding;
  }

  get outstandingBytes(): number {
    return this.#outstandingBytes;
  }

  /** True from reaching a limit until back at or below the low watermark. */
  get saturated(): boolean {
    return this.#saturated;
  }

  /** Called synchronously on every change of `saturated`. Returns an unsubscribe function. */
  onSaturationChange(listener: (saturated: boolean) => void): () => void {
    this.#saturationListeners.add(listener);
    return () => {
      this.#saturationListeners.delete(listener);
    };
  }

  /** Appends items; never refuses (see the module comment). */
  push(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#reserve(this.#length + items.length);
    const mask = this.#items.length - 1;
    let bytes = 0;
    for (const item of items) {
      const size = this.#sizeOf(item);
      const slot = (this.#head + this.#length) & mask;
      this.#items[slot] = item;
      this.#sizes[slot] = size;
      this.#length += 1;
      bytes += size;
    }
    this.#waitingBytes += bytes;
    this.#outstanding += items.length;
    this.#outstandingBytes += bytes;
    this.#updateSaturation();
    this.#wake(this.#itemWaiters);
  }

  /**
   * Takes up to `maxItems` items totalling at most `maxBytes`, in order. Always takes at
   * least one item when any is waiting, even one larger than `maxBytes`, so an oversized
   * record cannot block the queue. Taken items stay outstanding until released.
   */
  take(maxItems: number, maxBytes: number): T[] {
    const taken: T[] = [];
    const mask = this.#items.length - 1;
    let bytes = 0;
    while (this.#length > 0 && taken.length < maxItems) {
      const size = this.#sizes[this.#head] ?? 0;
      if (taken.length > 0 && bytes + size > maxBytes) break;
      const item = this.#items[this.#head] as T;
      this.#items[this.#head] = undefined; // let the record be collected once settled
      this.#head = (this.#head + 1) & mask;
      this.#length -= 1;
      bytes += size;
      taken.push(item);
    }
    this.#waitingBytes -= bytes;
    if (this.#length === 0) this.#waitingBytes = 0; // no float drift on an empty queue
    return taken;
  }

  /**
   * Resolves when an item is waiting, when `signal` aborts, or after `timeoutMs`,
   * whichever comes first. Never rejects: callers check `waiting` / the signal after.
   */
  waitForItems(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#length > 0) return Promise.resolve();
    return this.#waitOn(this.#itemWaiters, signal, timeoutMs);
  }

  /**
   * Frees the budget of `count` taken items totalling `bytes` once they are settled.
   * Counters clamp at zero, so an extra release cannot drive them negative (it does
   * free budget early: callers release each item exactly once).
   */
  release(bytes: number, count = 1): void {
    this.#outstanding = Math.max(0, this.#outstanding - Math.max(0, count));
    this.#outstandingBytes =
      this.#outstanding === 0 ? 0 : Math.max(0, this.#outstandingBytes - Math.max(0, bytes));
    this.#afterRelease();
  }

  /**
   * Removes the waiting items matching `predicate` (e.g. records of revoked partitions)
   * and releases their budget. Returns them in queue order. Taken items are untouched.
   */
  discard(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const mask = this.#items.length - 1;
    let kept = 0;
    let removedBytes = 0;
    // Compacts in place: kept items slide towards the head, preserving order.
    for (let i = 0; i < this.#length; i += 1) {
      const from = (this.#head + i) & mask;
      const item = this.#items[from] as T;
      const size = this.#sizes[from] ?? 0;
      if (predicate(item)) {
        removed.push(item);
        removedBytes += size;
        continue;
      }
      const to = (this.#head + kept) & mask;
      this.#items[to] = item;
      this.#sizes[to] = size;
      kept += 1;
    }
    for (let i = kept; i < this.#length; i += 1) this.#items[(this.#head + i) & mask] = undefined;
    this.#length = kept;
    if (removed.length === 0) return removed;
    this.#waitingBytes = kept === 0 ? 0 : this.#waitingBytes - removedBytes;
    this.release(removedBytes, removed.length);
    return removed;
  }

  /** Resolves once every pushed item has been released, or when `signal` aborts. */
  drained(signal?: AbortSignal): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve();
    return this.#waitOn(this.#drainWaiters, signal);
  }

  #afterRelease(): void {
    this.#updateSaturation();
    if (this.#outstanding === 0) this.#wake(this.#drainWaiters);
  }

  #updateSaturation(): void {
    const next = this.#saturated
      ? !(this.#outstanding <= this.#lowRecords && this.#outstandingBytes <= this.#lowBytes)
      : this.#outstanding >= this.#maxRecords || this.#outstandingBytes >= this.#maxBytes;
    if (next === this.#saturated) return;
    this.#saturated = next;
    for (const listener of [...this.#saturationListeners]) listener(next);
  }

  #wake(waiters: Set<Waiter>): void {
    for (const waiter of [...waiters]) waiter();
  }

  #waitOn(waiters: Set<Waiter>, signal: AbortSignal | undefined, timeoutMs?: number): Promise<void> {
    if (signal?.aborted === true) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        waiters.delete(done);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
      // setTimeout fires at once for delays above 2^31 - 1 ms: treat those as "no timeout".
      if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) timer = setTimeout(done, Math.max(0, timeoutMs));
    });
  }

  /** Grows the ring to hold `needed` items, unrolling it so the head is at slot 0. */
  #reserve(needed: number): void {
    const capacity = this.#items.length;
    if (needed <= capacity) return;
    let next = capacity * 2;
    while (next < needed) next *= 2;
    const items = new Array<T | undefined>(next);
    const sizes = new Array<number>(next).fill(0);
    for (let i = 0; i < this.#length; i += 1) {
      const from = (this.#head + i) & (capacity - 1);
      items[i] = this.#items[from];
      sizes[i] = this.#sizes[from] ?? 0;
    }
    this.#items = items;
    this.#sizes = sizes;
    this.#head = 0;
  }
}
