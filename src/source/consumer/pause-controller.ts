/**
 * Decides which partitions the Kafka consumer must not fetch, and applies that to
 * whatever kafkajs consumer object is current.
 *
 * kafkajs keeps pause state inside its consumer-group object, and a crash with
 * `restartOnFailure` builds a new one with nothing paused. So the state here is the
 * single source of truth and is re-applied in full (`reconcile`) on every group join,
 * every input change and on a timer, never only on a change: the queue bound then holds
 * through crashes, restarts and re-subscribes.
 */
import type { Consumer } from "kafkajs";
import type { TopicPartition } from "../../pipeline/record.ts";
import { partitionKey } from "../../pipeline/record.ts";

/** Why fetching stops for every partition. */
export interface PauseInputs {
  /** The queue reached its record or byte bound (until it drains to the low watermark). */
  readonly saturated: boolean;
  /** Shutting down: nothing new may be fetched. */
  readonly stopping: boolean;
  /** Changing the subscription: draining before the consumer is replaced. */
  readonly resubscribing: boolean;
}

/** What the consumer should look like: everything paused, or only some partitions. */
export interface PausePlan {
  readonly all: boolean;
  /** Partitions paused individually (when `all` is false): not yet seeded from the broker, or at their end. */
  readonly partitions: readonly TopicPartition[];
}

/**
 * Pure: the pause plan for the inputs, the assignment, the partitions still being
 * seeded and those that reached where reading ends (ReaderOptions.stopAt: nothing left
 * to fetch there, and a batch past it would only be fetched again and again).
 */
export function planPauses(
  inputs: PauseInputs,
  assignment: readonly TopicPartition[],
  seeding: ReadonlySet<string>,
  ended: ReadonlySet<string> = new Set(),
): PausePlan {
  if (inputs.saturated || inputs.stopping || inputs.resubscribing) return { all: true, partitions: [] };
  return {
    all: false,
    partitions: assignment.filter((tp) => {
      const key = partitionKey(tp.topic, tp.partition);
      return seeding.has(key) || ended.has(key);
    }),
  };
}

/** Groups partitions by topic, as kafkajs `pause()` wants them. */
export function byTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const grouped = new Map<string, number[]>();
  for (const tp of partitions) {
    const list = grouped.get(tp.topic);
    if (list === undefined) grouped.set(tp.topic, [tp.partition]);
    else list.push(tp.partition);
  }
  return [...grouped].map(([topic, list]) => ({ topic, partitions: list }));
}

/** The part of a kafkajs consumer the controller drives. */
export type PausableConsumer = Pick<Consumer, "pause" | "resume">;

/**
 * Applies a plan to a consumer: resume every subscribed topic, then pause what the plan
 * says. kafkajs throws when its group object does not exist (before `run()`, or between
 * a crash and the restart); the caller retries on the next reconcile, and the next group
 * join re-applies the plan before anything is fetched.
 */
export function applyPlan(consumer: PausableConsumer, topics: readonly string[], plan: PausePlan): void {
  const whole = topics.map((topic) => ({ topic }));
  if (plan.all) {
    consumer.pause(whole);
    return;
  }
  consumer.resume(whole);
  if (plan.partitions.length > 0) consumer.pause(byTopic(plan.partitions));
}

/** Whether a batch of this partition may be enqueued under the plan. */
export function mayEnqueue(plan: PausePlan, topic: string, partition: number): boolean {
  if (plan.all) return false;
  return !plan.partitions.some((tp) => tp.topic === topic && tp.partition === partition);
}
