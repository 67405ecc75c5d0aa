/**
 * Which partitions are held because Elasticsearch refuses their records for a reason an
 * operator must fix (closed or missing index, write block, missing privilege...), and
 * when each is probed again.
 *
 * Pure state, no timers and no I/O: callers pass the clock in. A partition is
 * - `held`: paused at Kafka; its records give their queue budget back and are re-read
 *   from the first unacknowledged offset when the hold ends. Probed at `nextProbeAt`;
 * - `probing`: resumed at Kafka to try again; the first record written releases the
 *   hold, the first refused one holds it again with a longer backoff;
 * - `expired`: held longer than `holdMaxMs`: resumed, and its refused records take the
 *   failure policy (dead-letter, skip or stop) until one is written again.
 */
import { partitionKey, type TopicPartition } from "../pipeline/record.ts";

export type HoldState = "held" | "probing" | "expired";

export interface Hold extends TopicPartition {
  readonly state: HoldState;
  /** The error type Elasticsearch gave (e.g. `index_closed_exception`). */
  readonly reason: string;
  /** When the partition was first held (ms, the caller's clock). */
  readonly since: number;
  /** The offset of the first refused record: nothing at or past it is committed. */
  readonly firstOffset: string;
  /** Probes that failed so far. */
  readonly attempts: number;
  /** When the next probe is due (state `held`). */
  readonly nextProbeAt: number;
}

export interface HoldOptions {
  /** First probe delay (ms); doubles per failed probe up to `probeMaxMs`. */
  readonly probeInitialMs: number;
  readonly probeMaxMs: number;
  /** After this long held, records take the failure policy; 0 = hold forever. */
  readonly holdMaxMs: number;
}

/** What a call changed, for the log line and the Kafka pause (one per state change). */
export type HoldChange =
  | { readonly kind: "held"; readonly hold: Hold }
  | { readonly kind: "probe_failed"; readonly hold: Hold }
  | { readonly kind: "probing"; readonly hold: Hold }
  | { readonly kind: "expired"; readonly hold: Hold }
  | { readonly kind: "released"; readonly hold: Hold; readonly heldMs: number };

/**
 * A probe delay: doubling per attempt, capped, with "equal jitter" (half fixed, half
 * random) so that probes of many partitions spread out but never come back at once.
 */
export function probeDelay(attempts: number, options: HoldOptions, random: () => number): number {
  const ceiling = Math.min(options.probeMaxMs, options.probeInitialMs * 2 ** Math.min(attempts, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(ceiling / 2 + (r * ceiling) / 2);
}

export class HoldRegistry {
  readonly #options: HoldOptions;
  readonly #random: () => number;
  readonly #holds = new Map<string, Hold>();

  constructor(options: HoldOptions, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** True while any partition is held, probed or expired. */
  get active(): boolean {
    return this.#holds.size > 0;
  }

  /** Held and not being probed: its records must not be sent (they give their budget back). */
  isHeld(topic: string, partition: number): boolean {
    return this.isHeldKey(partitionKey(topic, partition));
  }

  /** `isHeld` by `partitionKey`. */
  isHeldKey(key: string): boolean {
    return this.#holds.size > 0 && this.#holds.get(key)?.state === "held";
  }

  get(topic: string, partition: number): Hold | undefined {
    return this.#holds.get(partitionKey(topic, partition));
  }

  /** Every hold, in no particular order (metrics, /readyz). */
  all(): Hold[] {
    return [...this.#holds.values()];
  }

  /**
   * A record of the partition was refused for an operator reason (or could not be
   * dead-lettered). Returns the change (a new hold, or a failed probe), or undefined
   * when the partition was already held.
   */
  refused(record: TopicPartition & { readonly offset: string }, reason: string, now: number): HoldChange | undefined {
    const key = partitionKey(record.topic, record.partition);
    const hold = this.#holds.get(key);
    // An expired partition is held again only when a record cannot take the failure
    // policy either (the dead-letter topic cannot be written): a fresh hold.
    if (hold === undefined || hold.state === "expired") {
      const fresh: Hold = {
        topic: record.topic, partition: record.partition, state: "held", reason, since: now, firstOffset: record.offset, attempts: 0,
        nextProbeAt: now + probeDelay(0, this.#options, this.#random),
      };
      this.#holds.set(key, fresh);
      return { kind: "held", hold: fresh };
    }
    if (hold.state === "held" && BigInt(record.offset) < BigInt(hold.firstOffset)) {
      // Requests of one partition come back in any order: the hold starts at the lowest refused offset.
      this.#holds.set(key, { ...hold, firstOffset: record.offset });
      return undefined;
    }
    if (hold.state !== "probing") return undefined;
    const attempts = hold.attempts + 1;
    const next: Hold = { ...hold, state: "held", reason, attempts, nextProbeAt: now + probeDelay(attempts, this.#options, this.#random) };
    this.#holds.set(key, next);
    return { kind: "probe_failed", hold: next };
  }

  /** Expired holds pass their refused records on to the failure policy. */
  isExpired(topic: string, partition: number): boolean {
    return this.#holds.get(partitionKey(topic, partition))?.state === "expired";
  }

  /**
   * A record of the partition was written. Releases a hold being probed or expired; a
   * held partition stays held (the write was in flight before the hold began).
   */
  written(topic: string, partition: number, now: number): HoldChange | undefined {
    const key = partitionKey(topic, partition);
    const hold = this.#holds.get(key);
    if (hold === undefined || hold.state === "held") return undefined;
    this.#holds.delete(key);
    return { kind: "released", hold, heldMs: now - hold.since };
  }

  /**
   * Moves held partitions whose probe is due to `probing`, and those held longer than
   * `holdMaxMs` to `expired`: the caller resumes both at Kafka.
   */
  due(now: number): HoldChange[] {
    const changes: HoldChange[] = [];
    for (const [key, hold] of this.#holds) {
      if (hold.state !== "held") continue;
      const { holdMaxMs } = this.#options;
      if (holdMaxMs > 0 && now - hold.since >= holdMaxMs) {
        const expired: Hold = { ...hold, state: "expired" };
        this.#holds.set(key, expired);
        changes.push({ kind: "expired", hold: expired });
      } else if (now >= hold.nextProbeAt) {
        const probing: Hold = { ...hold, state: "probing" };
        this.#holds.set(key, probing);
        changes.push({ kind: "probing", hold: probing });
      }
    }
    return changes;
  }

  /** When `due` next has something to do (undefined: nothing held). */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const hold of this.#holds.values()) {
      if (hold.state !== "held") continue;
      const at = this.#options.holdMaxMs > 0 ? Math.min(hold.nextProbeAt, hold.since + this.#options.holdMaxMs) : hold.nextProbeAt;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  /** Forgets holds of partitions not in `owned` (revoked: the new owner starts from the committed offset). */
  retain(owned: readonly TopicPartition[]): Hold[] {
    const keep = new Set(owned.map((tp) => partitionKey(tp.topic, tp.partition)));
    const dropped: Hold[] = [];
    for (const [key, hold] of this.#holds) {
      if (keep.has(key)) continue;
      this.#holds.delete(key);
      dropped.push(hold);
    }
    return dropped;
  }
}
