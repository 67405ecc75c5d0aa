import type { Admin, Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../errors.ts";
import type { BoundedQueue } from "../pipeline/bounded-queue.ts";
import type { QueuedRecord, TopicPartition } from "../pipeline/record.ts";
import type { Checkpointer, CommitRequest } from "./checkpointer.ts";
import { toKafkaRecord } from "./record-conversion.ts";
import { sameTopics, selectTopics, type TopicSelection } from "./topic-selection.ts";

export interface ReaderOptions {
  readonly groupId: string;
  readonly selection: TopicSelection;
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly partitionsConsumedConcurrently: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly maxWaitTimeMs: number;
  readonly commitIntervalMs: number;
  readonly topicRefreshIntervalMs: number;
  /** How long a topic-set change may wait for in-flight records before re-subscribing. */
  readonly drainTimeoutMs: number;
}

/** What the reader reports; the composition root turns it into metrics. */
export interface ReaderObserver {
  recordsConsumed(topic: string, count: number): void;
  assignmentChanged(assigned: readonly TopicPartition[], revoked: readonly TopicPartition[]): void;
  pausedChanged(pausedPartitions: number): void;
  committed(outcome: "success" | "failure", requests: readonly CommitRequest[]): void;
  groupMembershipChanged(joined: boolean): void;
  /** Called whenever the fetch loop or the heartbeat turns: feeds the liveness check. */
  beat(loop: "fetch" | "heartbeat" | "commit"): void;
}


/**
 * The Kafka edge of the pipeline. `eachBatch` only converts, tracks and enqueues, then
 * returns, because kafkajs has no background heartbeat: a slow callback would get the
 * member expelled. Back-pressure is `pause()`/`resume()` driven by the bounded queue;
 * a paused consumer keeps heartbeating, so it keeps its partitions.
 */
export class KafkaReader {
  readonly #kafka: Kafka;
  readonly #queue: BoundedQueue<QueuedRecord>;
  readonly #checkpointer: Checkpointer;
  readonly #options: ReaderOptions;
  readonly #logger: Logger;
  readonly #observer: ReaderObserver;

  #admin: Admin | undefined;
  #consumer: Consumer | undefined;
  #topics: string[] = [];
  #assignment: TopicPartition[] = [];
  #joined = false;
  #paused = false;
  #running = false;
  #stopping = false;
  #commitTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #commitChain: Promise<void> = Promise.resolve();
  #resubscribing: Promise<void> | undefined;
  #fatal: ((error: Error) => void) | undefined;

  constructor(
    kafka: Kafka,
    queue: BoundedQueue<QueuedRecord>,
    checkpointer: Checkpointer,
    options: ReaderOptions,
    logger: Logger,
    observer: ReaderObserver,
  ) {
    this.#kafka = kafka;
    this.#queue = queue;
    this.#checkpointer = checkpointer;
    this.#options = options;
    this.#logger = logger;
    this.#observer = observer;
    queue.onSaturationChange((saturated) => {
      // While stopping or re-subscribing, fetching stays paused whatever the queue says.
      this.#setPaused(saturated || this.#stopping || this.#resubscribing !== undefined);
    });
  }

  get joined(): boolean {
    return this.#joined;
  }

  get topics(): readonly string[] {
    return this.#topics;
  }

  get assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  /** Called once if the consumer dies in a way kafkajs will not recover from. */
  onFatal(listener: (error: Error) => void): void {
    this.#fatal = listener;
  }

  async start(): Promise<void> {
    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
    this.#topics = await this.#resolveTopics();
    if (this.#topics.length === 0) {
      this.#logger.warn({ pattern: this.#options.selection.pattern?.source }, "no topic matches yet; waiting for one to appear");
    } else {
      await this.#startConsumer(this.#topics);
    }
    this.#commitTimer = setInterval(() => {
      void this.commitNow();
    }, this.#options.commitIntervalMs);
    if (this.#options.selection.pattern) {
      this.#refreshTimer = setInterval(() => {
        void this.#refreshTopics();
      }, this.#options.topicRefreshIntervalMs);
    }
  }

  /** The admin client the lag monitor shares (one connection is enough). */
  get admin(): Admin | undefined {
    return this.#admin;
  }

  async #resolveTopics(): Promise<string[]> {
    const existing = this.#options.selection.pattern && this.#admin ? await this.#admin.listTopics() : [];
    return selectTopics(this.#options.selection, existing);
  }

  /** A method, not a field read: the flag changes while this code awaits. */
  #isStopping(): boolean {
    return this.#stopping;
  }

  async #refreshTopics(): Promise<void> {
    if (this.#stopping || this.#resubscribing) return;
    let topics: string[];
    try {
      topics = await this.#resolveTopics();
    } catch (error) {
      this.#logger.warn({ err: describeError(error) }, "could not list topics; keeping the current subscription");
      return;
    }
    if (sameTopics(topics, this.#topics) || this.#isStopping()) return;
    this.#logger.info({ before: this.#topics, after: topics }, "matching topics changed; re-subscribing");
    this.#resubscribing = this.#resubscribe(topics).finally(() => {
      this.#resubscribing = undefined;
    });
    await this.#resubscribing;
  }

  /**
   * kafkajs cannot add topics to a running consumer, so a new matching topic means a
   * new consumer: drain what is in flight (bounded by a deadline), commit, leave, and
   * join again with the wider subscription. Anything not drained in time is simply
   * fetched again from the committed offset, and overwrites itself by id.
   */
  async #resubscribe(topics: string[]): Promise<void> {
    this.#setPaused(true);
    await this.#queue.drained(AbortSignal.timeout(this.#options.drainTimeoutMs)).catch(() => undefined);
    await this.#stopConsumer();
    this.#topics = topics;
    if (!this.#stopping) await this.#startConsumer(topics);
    this.#setPaused(this.#queue.saturated);
  }

  async #startConsumer(topics: string[]): Promise<void> {
    const o = this.#options;
    const consumer = this.#kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      maxBytesPerPartition: o.maxBytesPerPartition,
      maxBytes: o.maxBytes,
      maxWaitTimeInMs: o.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: {
        // A non-retriable crash is fatal; any other is retried by kafkajs, forever,
        // because a worker that gives up on a broker blip helps nobody.
        restartOnFailure: (error: Error) => {
          this.#logger.error({ err: describeError(error) }, "kafka consumer crashed; restarting it");
          return Promise.resolve(!this.#stopping);
        },
      },
    });
    const { GROUP_JOIN, REBALANCING, CRASH, STOP, HEARTBEAT, FETCH_START, START_BATCH_PROCESS } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      this.#onAssignment(event.payload.memberAssignment);
    });
    consumer.on(REBALANCING, () => {
      // Last chance to commit what is done before partitions may move to another member.
      this.#joined = false;
      this.#observer.groupMembershipChanged(false);
      void this.commitNow();
    });
    consumer.on(CRASH, (event) => {
      this.#joined = false;
      this.#observer.groupMembershipChanged(false);
      if (!event.payload.restart && !this.#stopping) {
        this.#fatal?.(event.payload.error);
      }
    });
    consumer.on(STOP, () => {
      this.#joined = false;
      this.#observer.groupMembershipChanged(false);
    });
    consumer.on(HEARTBEAT, () => {
      this.#observer.beat("heartbeat");
    });
    consumer.on(FETCH_START, () => {
      this.#observer.beat("fetch");
    });
    // Batches made only of transaction markers or aborted records never reach
    // eachBatch; track them as empty segments so the committed offset can pass them
    // and lag reaches zero on transactional topics.
    consumer.on(START_BATCH_PROCESS, (event) => {
      const p = event.payload;
      // kafkajs types firstOffset as a string, but it is null for a truly empty batch.
      const first = p.firstOffset as string | null;
      if (p.batchSize === 0 && first !== null && this.#checkpointer.isAssigned(p.topic, p.partition)) {
        this.#checkpointer.track(p.topic, p.partition, first, p.lastOffset, 0);
      }
    });

    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: o.fromBeginning });
    this.#consumer = consumer;
    await consumer.run({
      autoCommit: false,
      // Resolved by hand, only once the batch is tracked and queued: a batch we drop
      // must be fetched again, never skipped.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      eachBatch: (payload) => {
        this.#onBatch(payload);
        return Promise.resolve();
      },
    });
    this.#running = true;
    if (this.#paused) this.#applyPause(true);
    this.#logger.info({ topics, groupId: o.groupId }, "consumer started");
  }

  #onAssignment(memberAssignment: Record<string, number[]>): void {
    const assigned: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(memberAssignment)) {
      for (const partition of partitions) assigned.push({ topic, partition });
    }
    const revoked = this.#checkpointer.assign(assigned);
    if (revoked.length > 0) {
      const gone = new Set(revoked.map((tp) => `${tp.topic}\u0000${String(tp.partition)}`));
      // Waiting records of revoked partitions now belong to another member: drop them
      // (their acks would be no-ops anyway) so they do not hold queue budget.
      this.#queue.discard((item) => gone.has(`${item.record.topic}\u0000${String(item.record.partition)}`));
    }
    this.#assignment = assigned;
    this.#joined = true;
    this.#observer.groupMembershipChanged(true);
    this.#observer.assignmentChanged(assigned, revoked);
    this.#observer.pausedChanged(this.#paused ? assigned.length : 0);
    this.#logger.info({ assigned: assigned.length, revoked: revoked.length, epoch: this.#checkpointer.epoch }, "partitions assigned");
  }

  #onBatch(payload: EachBatchPayload): void {
    if (!payload.isRunning() || payload.isStale()) return;
    const batch = payload.batch;
    const { topic, partition } = batch;
    const messages = batch.messages;
    const lastOffset = batch.lastOffset();
    const firstOffset = batch.firstOffset() ?? lastOffset;
    const segment = this.#checkpointer.track(topic, partition, firstOffset, lastOffset, messages.length);
    // Not ours (any more): leave the offset unresolved so nothing is skipped.
    if (!segment) return;

    const items: QueuedRecord[] = new Array<QueuedRecord>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (m === undefined) continue;
      items[i] = { record: toKafkaRecord(topic, partition, m), ack: segment.recordAck() };
    }
    this.#queue.push(items);
    payload.resolveOffset(lastOffset);
    this.#observer.recordsConsumed(topic, messages.length);
  }

  #setPaused(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    if (this.#running) this.#applyPause(paused);
    this.#observer.pausedChanged(paused ? this.#assignment.length : 0);
    this.#logger.debug({ paused, queued: this.#queue.outstanding }, paused ? "queue full: pausing fetch" : "queue drained: resuming fetch");
  }

  #applyPause(paused: boolean): void {
    const consumer = this.#consumer;
    if (!consumer) return;
    const topics = this.#topics.map((topic) => ({ topic }));
    try {
      if (paused) consumer.pause(topics);
      else consumer.resume(topics);
    } catch (error) {
      this.#logger.warn({ err: describeError(error) }, "could not change the pause state");
    }
  }

  /**
   * Commits every offset the checkpointer says is safe. Serialized: two commits in
   * flight could land out of order. kafkajs does not check the assignment itself, so
   * the checkpointer only offers partitions still assigned in the current epoch.
   */
  commitNow(): Promise<void> {
    this.#commitChain = this.#commitChain.then(() => this.#commitOnce());
    return this.#commitChain;
  }

  async #commitOnce(): Promise<void> {
    this.#observer.beat("commit");
    const consumer = this.#consumer;
    if (!consumer || !this.#running) return;
    const requests = this.#checkpointer.committable();
    if (requests.length === 0) return;
    try {
      await consumer.commitOffsets(requests.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset })));
      this.#checkpointer.markCommitted(requests);
      this.#observer.committed("success", requests);
    } catch (error) {
      this.#observer.committed("failure", requests);
      this.#logger.warn({ err: describeError(error), partitions: requests.length }, "offset commit failed; will retry");
    }
  }

  async #stopConsumer(): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) return;
    // commitOffsets is a silent no-op once the runner stopped: commit first.
    await this.commitNow();
    this.#running = false;
    this.#consumer = undefined;
    await consumer.disconnect().catch((error: unknown) => {
      this.#logger.warn({ err: describeError(error) }, "consumer disconnect failed");
    });
    const revoked = this.#checkpointer.assign([]);
    this.#assignment = [];
    this.#joined = false;
    this.#observer.groupMembershipChanged(false);
    this.#observer.assignmentChanged([], revoked);
  }

  /** Stops fetching at once; in-flight records keep flowing to the sink. */
  pauseForShutdown(): void {
    this.#stopping = true;
    clearInterval(this.#refreshTimer);
    this.#setPaused(true);
  }

  /** After the sink drained: final commit, leave the group, close connections. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#commitTimer);
    clearInterval(this.#refreshTimer);
    await this.#resubscribing?.catch(() => undefined);
    await this.#stopConsumer();
    await this.#admin?.disconnect().catch(() => undefined);
  }
}

export type { CommitRequest };
