/**
 * On every assignment, reads each assigned partition's committed offset and log range
 * from the broker and seeds the checkpointer with them, before the partition is fetched
 * or committed.
 *
 * Why every assignment, kept partitions included: after an expulsion (session timeout)
 * kafkajs reports only the final assignment, so a partition that looks kept may have
 * been owned and committed further by another member meanwhile. Without the broker's
 * value the checkpointer could offer an offset below it (a backwards commit).
 *
 * The same read fixes where a partition starts. kafkajs is subscribed with
 * `fromBeginning: true` so that its out-of-range recovery resets to the earliest
 * retained offset, never to the latest (which skips everything retained); the seeder
 * then applies the configured start itself: a group that never committed starts at the
 * end when `fromBeginning` is false. A committed offset below the log start means
 * retention deleted records before they were read: they are counted, logged loudly,
 * and the partition resumes from the earliest retained record.
 */
import type { Admin } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";
import type { TopicPartition } from "../../pipeline/record.ts";
import { partitionKey } from "../../pipeline/record.ts";
import type { Checkpointer, SkippedRange } from "./checkpointer.ts";
import { retryUntilDone } from "../retry-loop.ts";

export interface SeedInput {
  /** The group's committed offset, undefined when it never committed (or kafkajs' -1/-2). */
  readonly committed: bigint | undefined;
  readonly low: bigint;
  readonly high: bigint;
  readonly fromBeginning: boolean;
  /** Where this member already fetches a kept partition from, if it does. */
  readonly known: bigint | undefined;
}

export interface SeedPlan {
  readonly committed: bigint | undefined;
  /** Where the next fetch starts. */
  readonly position: bigint;
  /** Set when kafkajs must be moved there (it would start elsewhere by itself). */
  readonly seek: bigint | undefined;
  /** Records deleted by retention before the group read them. */
  readonly lost: bigint;
}

/** Pure: where a partition starts, given what the broker says. */
export function planSeed(input: SeedInput): SeedPlan {
  const { committed, low, high, fromBeginning, known } = input;
  if (committed !== undefined) {
    if (committed < low) return { committed, position: low, seek: low, lost: low - committed };
    return { committed, position: committed, seek: undefined, lost: 0n };
  }
  // kafkajs starts a group without a committed offset at the log start (it is subscribed
  // fromBeginning): right for fromBeginning, otherwise move it to the end, or keep the
  // position of a partition this member already reads.
  if (fromBeginning) return { committed, position: low, seek: undefined, lost: 0n };
  const start = known ?? high;
  return { committed, position: start, seek: start, lost: 0n };
}

/** kafkajs reports a partition the group never committed as "-1" (and "-2" after its own reset to earliest). */
export function parseCommitted(offset: string): bigint | undefined {
  if (!/^\d+$/.test(offset)) return undefined;
  return BigInt(offset);
}

export interface SeederHooks {
  /** Moves kafkajs' fetch position (consumer.seek). */
  readonly seek: (topic: string, partition: number, offset: string) => void;
  /** Records deleted before they were read. */
  readonly lost: (range: SkippedRange) => void;
  /** Some partitions became seeded: fetching may resume. */
  readonly seeded: () => void;
  /** Resolves when no commit is in flight (a read racing a commit would be stale). */
  readonly commitsSettled: () => Promise<unknown>;
}

export interface SeederOptions {
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

interface Watermarks {
  readonly low: bigint;
  readonly high: bigint;
}

export class PartitionSeeder {
  readonly #admin: () => Admin | undefined;
  readonly #checkpointer: Checkpointer;
  readonly #options: SeederOptions;
  readonly #hooks: SeederHooks;
  readonly #logger: Logger;
  readonly #pending = new Set<string>();
  #epoch = -1;
  #stopped = false;

  constructor(admin: () => Admin | undefined, checkpointer: Checkpointer, options: SeederOptions, hooks: SeederHooks, logger: Logger) {
    this.#admin = admin;
    this.#checkpointer = checkpointer;
    this.#options = options;
    this.#hooks = hooks;
    this.#logger = logger;
  }

  /** Partitions (partitionKey) of the current assignment not seeded yet. */
  get pending(): ReadonlySet<string> {
    return this.#pending;
  }

  isSeeded(topic: string, partition: number): boolean {
    return this.#epoch === this.#checkpointer.epoch && !this.#pending.has(partitionKey(topic, partition));
  }

  /** Starts seeding a new assignment (the checkpointer's current epoch); supersedes any earlier one. */
  begin(assignment: readonly TopicPartition[]): void {
    this.#epoch = this.#checkpointer.epoch;
    this.#pending.clear();
    for (const tp of assignment) this.#pending.add(partitionKey(tp.topic, tp.partition));
    if (assignment.length > 0) void this.#seedUntilDone(this.#epoch, [...assignment]);
  }

  stop(): void {
    this.#stopped = true;
  }

  #current(epoch: number): boolean {
    return !this.#stopped && epoch === this.#epoch && epoch === this.#checkpointer.epoch;
  }

  async #seedUntilDone(epoch: number, assignment: TopicPartition[]): Promise<void> {
    await retryUntilDone(() => this.#seedOnce(epoch, assignment), {
      initialMs: this.#options.retryInitialMs,
      maxMs: this.#options.retryMaxMs,
      wanted: () => this.#current(epoch),
      failed: (error, retryInMs) => {
        this.#logger.warn({ err: describeError(error), partitions: this.#pending.size, retryInMs }, "could not read offsets of some assigned partitions; they stay paused, the others are read");
      },
    });
  }

  /**
   * Seeds every still pending partition whose offsets the brokers gave, and lets those
   * resume at once. A topic whose offsets cannot be read (a partition without a leader:
   * its only broker is down) fails on its own: its partitions stay pending and paused,
   * and the retry asks again for them only.
   */
  async #seedOnce(epoch: number, assignment: readonly TopicPartition[]): Promise<void> {
    const admin = this.#admin();
    if (admin === undefined) throw new Error("no admin client");
    await this.#hooks.commitsSettled();
    const waiting = assignment.filter((tp) => this.#pending.has(partitionKey(tp.topic, tp.partition)));
    const topics = [...new Set(waiting.map((tp) => tp.topic))];
    const [committed, { marks, failed }] = await Promise.all([readCommitted(admin, this.#options.groupId, topics), readWatermarks(admin, topics)]);
    if (!this.#current(epoch)) return;
    const ready = waiting.filter((tp) => marks.has(partitionKey(tp.topic, tp.partition)));
    for (const tp of ready) this.#seedPartition(tp, committed, marks);
    if (ready.length > 0) this.#hooks.seeded();
    if (failed.length > 0) throw new Error(`no offsets for ${failed.join("; ")}`);
  }

  #seedPartition(tp: TopicPartition, committed: ReadonlyMap<string, bigint>, marks: ReadonlyMap<string, Watermarks>): void {
    const key = partitionKey(tp.topic, tp.partition);
    if (!this.#pending.has(key)) return;
    const range = marks.get(key);
    if (range === undefined) throw new Error(`no offsets for ${tp.topic}[${String(tp.partition)}]`);
    const known = this.#checkpointer.positionOf(tp.topic, tp.partition);
    const plan = planSeed({
      committed: committed.get(key),
      ...range,
      fromBeginning: this.#options.fromBeginning,
      known: known === undefined ? undefined : BigInt(known),
    });
    if (plan.committed !== undefined) this.#checkpointer.seedCommitted(tp.topic, tp.partition, plan.committed.toString());
    if (plan.lost > 0n && plan.committed !== undefined) {
      this.#hooks.lost({ ...tp, from: plan.committed.toString(), to: plan.position.toString(), count: Number(plan.lost) });
    }
    if (plan.seek !== undefined) this.#hooks.seek(tp.topic, tp.partition, plan.seek.toString());
    this.#checkpointer.seedPosition(tp.topic, tp.partition, plan.position.toString());
    this.#pending.delete(key);
  }
}

async function readCommitted(admin: Admin, groupId: string, topics: string[]): Promise<Map<string, bigint>> {
  const result = new Map<string, bigint>();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
    for (const { partition, offset } of partitions) {
      const value = parseCommitted(offset);
      if (value !== undefined) result.set(partitionKey(topic, partition), value);
    }
  }
  return result;
}

/** Log ranges per partition of the topics that answered; `failed` names the others and why. */
async function readWatermarks(admin: Admin, topics: string[]): Promise<{ marks: Map<string, Watermarks>; failed: string[] }> {
  const marks = new Map<string, Watermarks>();
  const failed: string[] = [];
  const all = await Promise.allSettled(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })));
  all.forEach((result, i) => {
    if (result.status === "rejected") {
      failed.push(`${topics[i] ?? "?"} (${describeError(result.reason)})`);
      return;
    }
    const { topic, offsets } = result.value;
    for (const { partition, low, high } of offsets) marks.set(partitionKey(topic, partition), { low: BigInt(low), high: BigInt(high) });
  });
  return { marks, failed };
}
