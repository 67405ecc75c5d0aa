/**
 * The Kafka edge of a replay: reads each planned partition from its `next` offset up
 * to the end of its range, queues the records whose timestamps fall in the range, and
 * stops fetching a partition once its range is read.
 *
 * Why a throwaway consumer group: kafkajs has no manual assignment (no `assign()`),
 * and its fetch request lives in internal modules that are not public API. A consumer
 * under a group name of its own (never the configured one) gets every partition as the
 * only member and is positioned with `seek` on every join; it never commits (autoCommit
 * off, `commitOffsets` never called), so the group holds no offsets, and the run
 * deletes it at the end. The configured group is never joined: its committed offsets
 * cannot move.
 */
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";
import type { BoundedQueue } from "../../pipeline/bounded-queue.ts";
import { partitionKey, type QueuedRecord } from "../../pipeline/record.ts";
import type { Checkpointer } from "../offsets/checkpointer.ts";
import { createGroupConsumer, type GroupConsumerOptions } from "../consumer/group-consumer.ts";
import { toKafkaRecord } from "../consumer/record-conversion.ts";
import { inRange, isDone, lastOffsetOf, wanted, type PartitionPlan, type TimeRange } from "./replay-plan.ts";

export interface ReplayReaderOptions extends GroupConsumerOptions {
  /** A group name used by this run only (GroupConsumerOptions.groupId). */
  readonly plans: readonly PartitionPlan[];
  readonly range: TimeRange;
  readonly partitionsConsumedConcurrently: number;
}

interface Progress {
  readonly plan: PartitionPlan;
  /** Next offset to fetch (the seek target after a rejoin). */
  position: bigint;
  fetched: boolean;
}

export class ReplayReader {
  readonly #kafka: Kafka;
  readonly #queue: BoundedQueue<QueuedRecord>;
  readonly #checkpointer: Checkpointer;
  readonly #options: ReplayReaderOptions;
  readonly #logger: Logger;
  readonly #partitions = new Map<string, Progress>();
  readonly #allFetched: Promise<void>;
  #resolveAllFetched: () => void = () => undefined;
  #consumer: Consumer | undefined;
  #paused = false;
  #stopping = false;
  #fatal: ((error: Error) => void) | undefined;
  /** Records queued so far (in the range, not yet necessarily indexed). */
  recordsQueued = 0;

  constructor(kafka: Kafka, queue: BoundedQueue<QueuedRecord>, checkpointer: Checkpointer, options: ReplayReaderOptions, logger: Logger) {
    this.#kafka = kafka;
    this.#queue = queue;
    this.#checkpointer = checkpointer;
    this.#options = options;
    this.#logger = logger;
    this.#allFetched = new Promise((resolve) => {
      this.#resolveAllFetched = resolve;
    });
    const open = options.plans.filter((plan) => !isDone(plan));
    for (const plan of open) {
      this.#partitions.set(partitionKey(plan.topic, plan.partition), { plan, position: BigInt(plan.next), fetched: false });
    }
    checkpointer.assign(open);
    if (open.length === 0) this.#resolveAllFetched();
    queue.onSaturationChange((saturated) => {
      this.#setPaused(saturated || this.#stopping);
    });
  }

  /** Resolves once every partition's range was read and queued (not yet indexed). */
  get allFetched(): Promise<void> {
    return this.#allFetched;
  }

  /** Called once if the consumer dies in a way kafkajs will not recover from. */
  onFatal(listener: (error: Error) => void): void {
    this.#fatal = listener;
  }

  async start(): Promise<void> {
    if (this.#partitions.size === 0) return;
    const o = this.#options;
    const ignore = (): void => undefined;
    const consumer: Consumer = createGroupConsumer(this.#kafka, o, this.#logger, {
      // Every join resets the fetch position to the (absent) committed offset: seek
      // before the first fetch of the new generation.
      joined: () => {
        this.#seekAll(consumer);
      },
      crashed: (error, willRestart) => {
        if (!willRestart && !this.#stopping) this.#fatal?.(error);
      },
      emptyBatch: (topic, partition, first, last) => {
        this.#onRead(consumer, topic, partition, first, last, []);
      },
      shouldRestart: () => !this.#stopping,
      rebalancing: ignore,
      stopped: ignore,
      heartbeat: ignore,
      fetchStarted: ignore,
    });
    await consumer.connect();
    const topics = [...new Set(o.plans.map((p) => p.topic))];
    await consumer.subscribe({ topics, fromBeginning: true });
    this.#consumer = consumer;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      eachBatch: (payload) => {
        this.#onBatch(consumer, payload);
        return Promise.resolve();
      },
    });
    this.#applyPause(consumer);
    this.#logger.info({ groupId: o.groupId, partitions: this.#partitions.size }, "replay reader started");
  }

  #seekAll(consumer: Consumer): void {
    for (const p of this.#partitions.values()) {
      if (!p.fetched) consumer.seek({ topic: p.plan.topic, partition: p.plan.partition, offset: p.position.toString() });
    }
    this.#applyPause(consumer);
  }

  #onBatch(consumer: Consumer, payload: EachBatchPayload): void {
    if (!payload.isRunning() || payload.isStale()) return;
    const { batch } = payload;
    const last = batch.lastOffset();
    this.#onRead(consumer, batch.topic, batch.partition, batch.firstOffset() ?? last, last, batch.messages);
    payload.resolveOffset(last);
  }

  /** One fetched batch: queue what is in the range, track it, stop the partition at its end. */
  #onRead(consumer: Consumer, topic: string, partition: number, first: string, last: string, messages: EachBatchPayload["batch"]["messages"]): void {
    const progress = this.#partitions.get(partitionKey(topic, partition));
    if (progress === undefined || progress.fetched || this.#stopping) return;
    const { plan } = progress;
    const rangeLast = BigInt(lastOffsetOf(plan));
    const trackLast = BigInt(last) < rangeLast ? BigInt(last) : rangeLast;
    const picked = messages.filter((m) => wanted(plan, m.offset) && inRange(this.#options.range, Number(m.timestamp)));
    if (BigInt(first) <= trackLast) {
      const segment = this.#checkpointer.track(topic, partition, first, trackLast.toString(), picked.length);
      if (segment === undefined) return;
      this.#queue.push(picked.map((m) => ({ record: toKafkaRecord(topic, partition, m), ack: segment.recordAck() })));
      this.recordsQueued += picked.length;
    }
    progress.position = BigInt(last) + 1n;
    if (BigInt(last) >= rangeLast) this.#markFetched(consumer, progress);
  }

  #markFetched(consumer: Consumer, progress: Progress): void {
    progress.fetched = true;
    consumer.pause([{ topic: progress.plan.topic, partitions: [progress.plan.partition] }]);
    if ([...this.#partitions.values()].every((p) => p.fetched)) this.#resolveAllFetched();
  }

  #setPaused(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    if (this.#consumer !== undefined) this.#applyPause(this.#consumer);
  }

  /** Pauses everything while the queue is full; otherwise only the partitions already read. */
  #applyPause(consumer: Consumer): void {
    try {
      for (const p of this.#partitions.values()) {
        const tp = [{ topic: p.plan.topic, partitions: [p.plan.partition] }];
        if (this.#paused || p.fetched) consumer.pause(tp);
        else consumer.resume(tp);
      }
    } catch (error) {
      this.#logger.warn({ err: describeError(error) }, "could not change the pause state");
    }
  }

  /** Stops fetching at once; queued records keep flowing to the sink. */
  pause(): void {
    this.#stopping = true;
    this.#setPaused(true);
  }

  /** Leaves and deletes the throwaway group (it holds no offsets; deleting it is tidiness). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const consumer = this.#consumer;
    this.#consumer = undefined;
    if (consumer === undefined) return;
    await consumer.disconnect().catch((error: unknown) => {
      this.#logger.warn({ err: describeError(error) }, "replay consumer disconnect failed");
    });
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.#options.groupId]);
    } catch (error) {
      this.#logger.debug({ err: describeError(error), groupId: this.#options.groupId }, "could not delete the replay group");
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
