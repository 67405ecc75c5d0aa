/**
 * The hold registry (hold-registry.ts) with its clock, its probe timer and its log
 * lines: the sink reports refused and written records here, and the composition root
 * listens to the changes to pause and resume the partitions at Kafka (the sink does
 * not know the source).
 */
import { LastPartitionKey, partitionKey, type KafkaRecord, type TopicPartition } from "../pipeline/record.ts";
import { HoldRegistry, type Hold, type HoldChange, type HoldOptions } from "./hold-registry.ts";
import { noopLogger, type SinkLogger } from "./observer.ts";

export type HoldListener = (change: HoldChange) => void;

export interface PartitionHoldsDeps {
  readonly logger?: SinkLogger;
  /** Injectable for tests: wall clock (ms) and jitter source. */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** What each hold change logs: level, whether the line says how long the partition was held, message. */
const HOLD_LOG_LINES: Readonly<Record<HoldChange["kind"], { readonly level: "error" | "info" | "debug"; readonly withAge: boolean; readonly message: string }>> = {
  held: { level: "error", withAge: false, message: "partition held: Elasticsearch refuses its records for a reason an operator must fix; other partitions keep flowing" },
  probe_failed: { level: "debug", withAge: true, message: "partition still held: probe refused" },
  probing: { level: "debug", withAge: false, message: "probing a held partition" },
  expired: { level: "error", withAge: true, message: "partition hold expired (HOLD_MAX_MS): its refused records now take the failure policy" },
  released: { level: "info", withAge: true, message: "partition released: Elasticsearch takes its records again" },
};

function fields(hold: Hold): Record<string, unknown> {
  return { topic: hold.topic, partition: hold.partition, reason: hold.reason, firstOffset: hold.firstOffset, attempts: hold.attempts };
}

export class PartitionHolds {
  readonly #registry: HoldRegistry;
  readonly #logger: SinkLogger;
  readonly #now: () => number;
  readonly #listeners: HoldListener[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt: number | undefined;
  #closed = false;
  /** The partitions this member owns, once the reader said (undefined: all of them). */
  #owned: Set<string> | undefined;
  /** Asked once per record (isHeld). */
  readonly #lastKey = new LastPartitionKey();

  constructor(options: HoldOptions, deps: PartitionHoldsDeps = {}) {
    this.#registry = new HoldRegistry(options, deps.random);
    this.#logger = deps.logger ?? noopLogger;
    this.#now = deps.now ?? Date.now;
  }

  /** Called on every state change, in order. */
  onChange(listener: HoldListener): void {
    this.#listeners.push(listener);
  }

  get active(): boolean {
    return this.#registry.active || this.#owned !== undefined;
  }

  /**
   * True when the partition's records must not be sent: it is held, or no longer owned
   * (revoked: its records leave the slots at once, the new owner reads them again).
   */
  isHeld(topic: string, partition: number): boolean {
    if (this.#owned === undefined && !this.#registry.active) return false;
    const key = this.#lastKey.of(topic, partition);
    if (this.#owned !== undefined && !this.#owned.has(key)) return true;
    return this.#registry.isHeldKey(key);
  }

  isExpired(topic: string, partition: number): boolean {
    return this.#registry.isExpired(topic, partition);
  }

  get(topic: string, partition: number): Hold | undefined {
    return this.#registry.get(topic, partition);
  }

  /** Every hold now (metrics, /readyz). */
  all(): Hold[] {
    return this.#registry.all();
  }

  /** How long (ms) the partition has been held, if it is. */
  heldFor(topic: string, partition: number): number | undefined {
    const hold = this.#registry.get(topic, partition);
    return hold === undefined ? undefined : this.#now() - hold.since;
  }

  refused(record: KafkaRecord, reason: string): void {
    this.#apply(this.#registry.refused(record, reason, this.#now()));
  }

  written(topic: string, partition: number): void {
    this.#apply(this.#registry.written(topic, partition, this.#now()));
  }

  /**
   * The partitions owned now: holds of the others are dropped (no change is emitted, the
   * partitions are gone), and their records still in the sink are given back.
   */
  retain(owned: readonly TopicPartition[]): void {
    this.#owned = new Set(owned.map((tp) => partitionKey(tp.topic, tp.partition)));
    for (const hold of this.#registry.retain(owned)) {
      this.#logger.info(fields(hold), "partition no longer owned: its hold is dropped (the new owner starts from the committed offset)");
    }
    this.#schedule();
  }

  /** Starts the probes and expiries that are due (the timer calls it; so may tests). */
  checkDue(): void {
    for (const change of this.#registry.due(this.#now())) this.#apply(change);
    this.#schedule();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #apply(change: HoldChange | undefined): void {
    if (change === undefined) return;
    this.#log(change);
    for (const listener of this.#listeners) listener(change);
    this.#schedule();
  }

  /** One line per state change; a failed probe or a probe starting is quiet (debug). */
  #log(change: HoldChange): void {
    const line = HOLD_LOG_LINES[change.kind];
    const heldMs = change.kind === "released" ? change.heldMs : this.#now() - change.hold.since;
    const logged = line.withAge ? { ...fields(change.hold), heldMs } : fields(change.hold);
    this.#logger[line.level](logged, line.message);
  }

  /** Arms the timer for the next probe or expiry. */
  #schedule(): void {
    if (this.#closed) return;
    const at = this.#registry.nextDueAt();
    if (at === this.#timerAt && this.#timer !== undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      this.checkDue();
    }, Math.max(0, at - this.#now()));
    this.#timer.unref();
  }
}
