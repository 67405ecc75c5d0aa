import type { Admin } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";
import type { TopicPartition } from "../../pipeline/record.ts";
import { parseCommitted } from "./partition-seeder.ts";

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Records between the high watermark and the group's committed offset; never negative. */
  readonly lag: number;
  readonly highWatermark: string;
  /** The group's committed offset, or undefined when the group never committed here. */
  readonly committed: string | undefined;
}

export interface LagMonitorOptions {
  readonly groupId: string;
  readonly intervalMs: number;
}

/** Where this member started a partition the group never committed, when it knows. */
export type StartOffsets = (topic: string, partition: number) => string | undefined;

/**
 * Commit lag, measured from the brokers rather than from what this process has seen,
 * so it is right while the worker is idle, paused, catching up, or has never
 * committed. Only partitions assigned to this member are reported, so replicas do not
 * double-count; a revoked partition's series is removed by the assignment observer.
 */
export function computeLag(
  high: bigint,
  low: bigint,
  committed: bigint | undefined,
  started?: bigint,
): number {
  // Never committed: measure from where this member started (its seeded position). Not
  // from the high watermark: a worker stuck since its start would then report 0 forever.
  // Unknown start: everything retained counts, the side that raises an alert.
  const start = committed ?? started ?? low;
  // Retention may have deleted records the group never read: they are not lag.
  const from = start < low ? low : start;
  const lag = high - from;
  return lag > 0n ? Number(lag) : 0;
}

export class LagMonitor {
  readonly #admin: () => Admin | undefined;
  readonly #assignment: () => readonly TopicPartition[];
  readonly #startOf: StartOffsets;
  readonly #options: LagMonitorOptions;
  readonly #logger: Logger;
  readonly #report: (lags: readonly PartitionLag[]) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    admin: () => Admin | undefined,
    assignment: () => readonly TopicPartition[],
    startOf: StartOffsets,
    options: LagMonitorOptions,
    logger: Logger,
    report: (lags: readonly PartitionLag[]) => void,
  ) {
    this.#admin = admin;
    this.#assignment = assignment;
    this.#startOf = startOf;
    this.#options = options;
    this.#logger = logger;
    this.#report = report;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.refresh().then(
        () => undefined,
        () => undefined,
      ).finally(() => {
        this.#running = undefined;
      });
    }, this.#options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Measures once and reports; errors are logged, the previous values stay. */
  async refresh(): Promise<readonly PartitionLag[]> {
    const admin = this.#admin();
    const assignment = this.#assignment();
    if (!admin || assignment.length === 0) {
      this.#report([]);
      return [];
    }
    try {
      const lags = await this.measure(admin, assignment);
      // The assignment may have changed while we asked the brokers.
      const current = new Set(this.#assignment().map((tp) => `${tp.topic}:${String(tp.partition)}`));
      const kept = lags.filter((l) => current.has(`${l.topic}:${String(l.partition)}`));
      this.#report(kept);
      return kept;
    } catch (error) {
      this.#logger.warn({ err: describeError(error) }, "could not measure consumer lag");
      return [];
    }
  }

  async measure(admin: Admin, assignment: readonly TopicPartition[]): Promise<PartitionLag[]> {
    const topics = [...new Set(assignment.map((tp) => tp.topic))];
    const [settled, groupOffsets] = await Promise.all([
      Promise.allSettled(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
      admin.fetchOffsets({ groupId: this.#options.groupId, topics }),
    ]);
    const ends = this.#measurable(topics, settled);
    const committed = new Map<string, bigint>();
    for (const { topic, partitions } of groupOffsets) {
      for (const { partition, offset } of partitions) {
        // kafkajs reports "-1" for a partition the group never committed ("-2" after its own reset).
        const value = parseCommitted(offset);
        if (value !== undefined) committed.set(`${topic}:${String(partition)}`, value);
      }
    }
    const assigned = new Set(assignment.map((tp) => `${tp.topic}:${String(tp.partition)}`));
    const lags: PartitionLag[] = [];
    for (const { topic, offsets } of ends) {
      for (const { partition, high, low } of offsets) {
        const key = `${topic}:${String(partition)}`;
        if (!assigned.has(key)) continue;
        const done = committed.get(key);
        const started = this.#startOf(topic, partition);
        lags.push({
          topic,
          partition,
          lag: computeLag(BigInt(high), BigInt(low), done, started === undefined ? undefined : BigInt(started)),
          highWatermark: high,
          committed: done?.toString(),
        });
      }
    }
    return lags;
  }

  /**
   * The topics whose end offsets the brokers gave. A topic with a partition that has no
   * leader (its only broker down) fails on its own: its gauges keep their last values
   * while every other topic is measured; all failing is an error.
   */
  #measurable<T>(topics: readonly string[], settled: readonly PromiseSettledResult<T>[]): T[] {
    const ends: T[] = [];
    const failed: string[] = [];
    settled.forEach((result, i) => {
      if (result.status === "fulfilled") ends.push(result.value);
      else failed.push(`${topics[i] ?? "?"}: ${describeError(result.reason)}`);
    });
    if (ends.length === 0 && failed.length > 0) throw new Error(`no end offsets (${failed.join("; ")})`);
    if (failed.length > 0) this.#logger.warn({ failed }, "could not measure consumer lag of some topics");
    return ends;
  }
}
