import type { Admin, Consumer, Kafka } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";
import type { BoundedQueue } from "../../pipeline/bounded-queue.ts";
import { partitionKey, type QueuedRecord, type TopicPartition } from "../../pipeline/record.ts";
import type { Checkpointer, CommitRequest, SkippedRange } from "../offsets/checkpointer.ts";
import { lostBelowLogStart } from "../offsets/skipped-range.ts";
import { CommitSchedule } from "../offsets/commit-schedule.ts";
import { OffsetCommitter } from "../offsets/offset-committer.ts";
import { PartitionSeeder } from "../offsets/partition-seeder.ts";
import { retryUntilDone } from "../retry-loop.ts";
import { intakeBatch, type IntakeDeps } from "./batch-intake.ts";
import { createGroupConsumer, type GroupConsumerHandlers } from "./group-consumer.ts";
import { applyPlan, mayEnqueue, planPauses, type PausePlan } from "./pause-controller.ts";
import type { TopicSelection } from "./topic-selection.ts";
import { TopicWatcher } from "./topic-watcher.ts";

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
  /** First delay before retrying a failed consumer start, commit or seed; doubles up to 30 s. */
  readonly retryInitialMs?: number;
  /** One line for a crash caused by a misconfiguration (missing ACL...); default: the error's message. */
  readonly explainCrash?: (error: Error) => string | undefined;
  /**
   * Per partition (`partitionKey`), the offset where reading ends (exclusive): records at
   * or past it are left unfetched and unresolved, and a partition whose fetch reached it
   * is paused (no fetching the same records again and again). Redrive reads up to the
   * end offsets it saw at start, so what it writes back to the topic waits for the next run.
   */
  readonly stopAt?: ReadonlyMap<string, bigint>;
}

/** What the reader reports; the composition root turns it into metrics. */
export interface ReaderObserver {
  recordsConsumed(topic: string, count: number): void;
  assignmentChanged(assigned: readonly TopicPartition[], revoked: readonly TopicPartition[]): void;
  pausedChanged(pausedPartitions: number): void;
  committed(outcome: "success" | "failure", requests: readonly CommitRequest[]): void;
  groupMembershipChanged(joined: boolean): void;
  /** Records deleted by retention before this group read them. */
  recordsLost(range: SkippedRange): void;
  /** Called whenever the fetch loop or the heartbeat turns: feeds the liveness check. */
  beat(loop: "fetch" | "heartbeat" | "commit"): void;
}

const RETRY_MAX_MS = 30_000;

/**
 * The Kafka edge of the pipeline. `eachBatch` only converts, tracks and enqueues, then
 * returns, because kafkajs has no background heartbeat: a slow callback would get the
 * member expelled. Back-pressure is `pause()`/`resume()` driven by the bounded queue
 * (see pause-controller.ts); commits go through the OffsetCommitter, at the times the
 * CommitSchedule decides (the reader only signals rebalances and stops), and every
 * assignment is seeded from the broker by the PartitionSeeder before it is fetched.
 */
export class KafkaReader {
  readonly #kafka: Kafka;
  readonly #queue: BoundedQueue<QueuedRecord>;
  readonly #checkpointer: Checkpointer;
  readonly #options: ReaderOptions;
  readonly #logger: Logger;
  readonly #observer: ReaderObserver;
  readonly #committer: OffsetCommitter;
  readonly #commits: CommitSchedule;
  readonly #seeder: PartitionSeeder;
  readonly #retryInitialMs: number;
  readonly #intake: IntakeDeps;
  readonly #watcher: TopicWatcher;
  /** Partitions read up to their stopAt (`partitionKey`): paused for good. */
  readonly #ended = new Set<string>();

  #admin: Admin | undefined;
  #consumer: Consumer | undefined;
  #topics: string[] = [];
  #assignment: TopicPartition[] = [];
  #joined = false;
  #stopping = false;
  #pauseTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #resubscribing: Promise<void> | undefined;
  #fatal: ((error: Error) => void) | undefined;
  /** Partitions held by the sink (an index refuses their records): paused until released. */
  readonly #held = new Map<string, TopicPartition>();
  readonly #assignmentListeners: ((assigned: readonly TopicPartition[]) => void)[] = [];

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
    this.#retryInitialMs = options.retryInitialMs ?? 500;
    const retry = { retryInitialMs: this.#retryInitialMs, retryMaxMs: RETRY_MAX_MS };
    this.#committer = this.#createCommitter();
    this.#commits = new CommitSchedule(
      this.#committer,
      { intervalMs: options.commitIntervalMs, ...retry },
      { tick: () => { this.#observer.beat("commit"); } },
      logger,
    );
    this.#seeder = this.#createSeeder(retry);
    this.#watcher = this.#createWatcher();
    this.#intake = this.#createIntake();
    checkpointer.onSkipped((range) => {
      void this.#confirmLost(range);
    });
    queue.onSaturationChange(() => {
      this.#reconcilePauses();
    });
  }

  /** Called with the whole assignment on every group join (and [] when the consumer stops). */
  onAssignment(listener: (assigned: readonly TopicPartition[]) => void): void {
    this.#assignmentListeners.push(listener);
  }

  /**
   * Stops reading a partition whose records Elasticsearch refuses for an operator
   * reason: it is paused at Kafka and its records waiting in the queue give their
   * budget back (not acked, not committed: they are read again on release).
   */
  holdPartition(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    if (this.#held.has(key) || !this.#checkpointer.isAssigned(topic, partition)) return;
    this.#held.set(key, { topic, partition });
    this.#reconcilePauses();
    this.#queue.discard((item) => item.record.topic === topic && item.record.partition === partition);
  }

  /**
   * Reads a held partition again from its first unacknowledged offset (a probe, or the
   * hold expired): what was fetched past it is fetched again (ids make that harmless).
   */
  releasePartition(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    if (!this.#held.delete(key)) return;
    this.#queue.discard((item) => item.record.topic === topic && item.record.partition === partition);
    const from = this.#checkpointer.restart(topic, partition);
    if (from !== undefined) this.#seek(topic, partition, from);
    this.#reconcilePauses();
  }

  /** Partitions held now. */
  get held(): readonly TopicPartition[] {
    return [...this.#held.values()];
  }

  /** Commits only partitions the seeder has read from the broker in this epoch. */
  #createCommitter(): OffsetCommitter {
    return new OffsetCommitter(this.#checkpointer, {
      mayCommit: (r) => this.#seeder.isSeeded(r.topic, r.partition),
      committed: (outcome, requests) => {
        this.#observer.committed(outcome, requests);
      },
    });
  }

  #createSeeder(retry: { retryInitialMs: number; retryMaxMs: number }): PartitionSeeder {
    const { groupId, fromBeginning } = this.#options;
    return new PartitionSeeder(
      () => this.#admin,
      this.#checkpointer,
      { groupId, fromBeginning, ...retry },
      {
        seek: (topic, partition, offset) => {
          this.#seek(topic, partition, offset);
        },
        lost: (range) => {
          this.reportLost(range);
        },
        seeded: () => {
          this.#reconcilePauses();
        },
        commitsSettled: () => this.#commits.settled(),
      },
      this.#logger,
    );
  }

  /** Re-subscribes when the topics matching the selection change (never mid-resubscribe or while stopping). */
  #createWatcher(): TopicWatcher {
    return new TopicWatcher(
      this.#options.selection,
      () => this.#admin,
      {
        current: () => this.#topics,
        idle: () => !this.#stopping && this.#resubscribing === undefined,
        changed: (topics) => this.#resubscribe(topics),
      },
      this.#logger,
    );
  }

  /** What each fetched batch goes through before it reaches the queue (batch-intake.ts). */
  #createIntake(): IntakeDeps {
    return {
      queue: this.#queue,
      checkpointer: this.#checkpointer,
      stopAt: this.#options.stopAt,
      reachedEnd: (topic, partition) => {
        const key = partitionKey(topic, partition);
        if (this.#ended.has(key)) return;
        this.#ended.add(key);
        this.#logger.debug({ topic, partition }, "partition read up to its end offset: fetching stops");
        this.#reconcilePauses();
      },
      mayEnqueue: (topic, partition) => mayEnqueue(this.#plan(), topic, partition) && this.#seeder.isSeeded(topic, partition),
      useChannel: (channel) => {
        this.#committer.useChannel(channel);
      },
      consumed: (topic, count) => {
        this.#observer.recordsConsumed(topic, count);
      },
    };
  }

  /** True while a member of the consumer group with an assignment (readiness). */
  get joined(): boolean {
    return this.#joined;
  }

  get topics(): readonly string[] {
    return this.#topics;
  }

  get assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  /** The admin client the lag monitor shares (one connection is enough). */
  get admin(): Admin | undefined {
    return this.#admin;
  }

  /**
   * What this member would commit for a partition now: for one the group never
   * committed, where it started. The lag monitor measures from it until a commit lands.
   */
  startOffset(topic: string, partition: number): string | undefined {
    return this.#checkpointer.safeOffset(topic, partition);
  }

  /** Called once if the consumer dies in a way kafkajs will not recover from. */
  onFatal(listener: (error: Error) => void): void {
    this.#fatal = listener;
  }

  /**
   * Offsets a fetch skipped are lost only below the partition's log start: above it
   * they are a compacted topic's gaps or transaction markers (skipped-range.ts). When
   * the log start cannot be read, the whole range is reported, as before.
   */
  async #confirmLost(range: SkippedRange): Promise<void> {
    let lost: SkippedRange | undefined = range;
    try {
      const offsets = await this.#admin?.fetchTopicOffsets(range.topic);
      const low = offsets?.find((o) => o.partition === range.partition)?.low;
      if (low !== undefined) lost = lostBelowLogStart(range, low);
    } catch (error) {
      this.#logger.debug({ err: describeError(error), topic: range.topic }, "could not read the log start: the skipped offsets are reported as lost");
    }
    if (lost !== undefined) this.reportLost(lost);
    else this.#logger.debug({ topic: range.topic, partition: range.partition, fromOffset: range.from, toOffset: range.to }, "offsets skipped above the log start: compaction or transaction markers, nothing lost");
  }

  /** Records deleted by retention before they were read: counted and logged loudly. */
  reportLost(range: SkippedRange): void {
    this.#observer.recordsLost(range);
    this.#logger.error(
      { topic: range.topic, partition: range.partition, fromOffset: range.from, toOffset: range.to, records: range.count },
      "records were deleted by retention before this group read them: they are lost; resuming from the earliest retained record",
    );
  }

  async start(): Promise<void> {
    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
    this.#topics = await this.#watcher.resolve();
    if (this.#topics.length === 0) {
      this.#logger.warn({ pattern: this.#options.selection.pattern?.source }, "no topic matches yet; waiting for one to appear");
    } else {
      await this.#startConsumer(this.#topics);
    }
    this.#commits.start();
    this.#pauseTimer = setInterval(() => {
      // Belt and braces: whatever kafkajs rebuilt meanwhile gets the pauses again.
      this.#reconcilePauses();
    }, this.#options.commitIntervalMs);
    if (this.#options.selection.pattern) {
      this.#refreshTimer = setInterval(() => {
        void this.#watcher.refresh();
      }, this.#options.topicRefreshIntervalMs);
    }
  }

  /** Commits every offset that is safe, owned and seeded now; one attempt (retried on failure). */
  async commitNow(): Promise<void> {
    await this.#commits.commitNow();
  }

  /**
   * kafkajs cannot add topics to a running consumer, so a new matching topic means a
   * new consumer: drain what is in flight (bounded by a deadline), commit, leave, and
   * join again with the wider subscription. Anything not drained in time is simply
   * fetched again from the committed offset, and overwrites itself by id. Fetching stays
   * paused meanwhile (`#resubscribing`).
   */
  #resubscribe(topics: string[]): Promise<void> {
    this.#resubscribing = (async () => {
      await this.#queue.drained(AbortSignal.timeout(this.#options.drainTimeoutMs)).catch(() => undefined);
      await this.#stopConsumer();
      this.#topics = topics;
      await this.#startConsumerRetrying();
    })().finally(() => {
      this.#resubscribing = undefined;
      this.#reconcilePauses();
    });
    this.#reconcilePauses();
    return this.#resubscribing;
  }

  /**
   * A new consumer may fail to start (a topic deleted right after it was listed, a
   * broker blip): try again with backoff, re-reading the topic list each time, until it
   * runs or the reader stops. Meanwhile nothing is consumed and readiness says so.
   */
  async #startConsumerRetrying(): Promise<void> {
    await retryUntilDone(
      async () => {
        if (this.#topics.length > 0) await this.#startConsumer(this.#topics);
      },
      {
        initialMs: this.#retryInitialMs,
        maxMs: RETRY_MAX_MS,
        wanted: () => !this.#stopping,
        failed: (error, retryInMs) => {
          this.#logger.error({ err: describeError(error), topics: this.#topics, retryInMs }, "could not start the kafka consumer; retrying");
          void this.#watcher.resolve().then((topics) => {
            this.#topics = topics;
          }, () => undefined);
        },
      },
    );
  }

  async #startConsumer(topics: string[]): Promise<void> {
    const consumer = createGroupConsumer(this.#kafka, this.#options, this.#logger, this.#handlers());
    try {
      await consumer.connect();
      // kafkajs always starts from the beginning and recovers from out-of-range to the
      // earliest record; the seeder applies `fromBeginning: false` itself (see there).
      await consumer.subscribe({ topics, fromBeginning: true });
      this.#consumer = consumer;
      await consumer.run({
        autoCommit: false,
        // Resolved by hand, only once the batch is tracked and queued: a batch we drop
        // must be fetched again, never skipped.
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.#options.partitionsConsumedConcurrently,
        eachBatch: (payload) => {
          intakeBatch(payload, this.#intake);
          return Promise.resolve();
        },
      });
    } catch (error) {
      this.#consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    this.#reconcilePauses();
    this.#logger.info({ topics, groupId: this.#options.groupId }, "consumer started");
  }

  #handlers(): GroupConsumerHandlers {
    return {
      joined: (memberAssignment) => {
        this.#onAssignment(memberAssignment);
      },
      rebalancing: () => {
        this.#setJoined(false);
        this.#commits.rebalancing();
      },
      crashed: (error, willRestart) => {
        this.#setJoined(false);
        this.#committer.dropChannel();
        if (!willRestart && !this.#stopping) this.#fatal?.(error);
      },
      stopped: () => {
        this.#setJoined(false);
        this.#committer.dropChannel();
      },
      heartbeat: () => {
        this.#observer.beat("heartbeat");
      },
      fetchStarted: () => {
        this.#observer.beat("fetch");
      },
      emptyBatch: (topic, partition, first, last) => {
        if (this.#seeder.isSeeded(topic, partition)) this.#checkpointer.track(topic, partition, first, last, 0);
      },
      shouldRestart: () => !this.#stopping,
    };
  }

  #setJoined(joined: boolean): void {
    this.#joined = joined;
    this.#observer.groupMembershipChanged(joined);
  }

  /** Runs synchronously inside kafkajs' GROUP_JOIN: before anything is fetched for it. */
  #onAssignment(memberAssignment: Record<string, number[]>): void {
    const assigned: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(memberAssignment)) {
      for (const partition of partitions) assigned.push({ topic, partition });
    }
    const revoked = this.#checkpointer.assign(assigned);
    if (revoked.length > 0) {
      const gone = new Set(revoked.map((tp) => partitionKey(tp.topic, tp.partition)));
      // Waiting records of revoked partitions now belong to another member: drop them
      // (their acks would be no-ops anyway) so they do not hold queue budget.
      this.#queue.discard((item) => gone.has(partitionKey(item.record.topic, item.record.partition)));
    }
    this.#assignment = assigned;
    this.#forgetHeldNotIn(assigned);
    this.#seeder.begin(assigned);
    // kafkajs may have built a new consumer group (restart): it has no pauses of ours.
    this.#reconcilePauses();
    this.#setJoined(true);
    this.#observer.assignmentChanged(assigned, revoked);
    for (const listener of this.#assignmentListeners) listener(assigned);
    this.#logger.info({ assigned: assigned.length, revoked: revoked.length, epoch: this.#checkpointer.epoch }, "partitions assigned");
  }

  /** Holds of partitions no longer owned are dropped: the new owner reads them from the committed offset. */
  #forgetHeldNotIn(assigned: readonly TopicPartition[]): void {
    if (this.#held.size === 0) return;
    const owned = new Set(assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
    for (const key of [...this.#held.keys()]) if (!owned.has(key)) this.#held.delete(key);
  }

  #plan(): PausePlan {
    const inputs = { saturated: this.#queue.saturated, stopping: this.#stopping, resubscribing: this.#resubscribing !== undefined };
    const paused = this.#held.size === 0 ? this.#seeder.pending : new Set([...this.#seeder.pending, ...this.#held.keys()]);
    return planPauses(inputs, this.#assignment, paused, this.#ended);
  }

  /** Applies the whole pause plan to the current consumer, whatever kafkajs did meanwhile. */
  #reconcilePauses(): void {
    const plan = this.#plan();
    this.#observer.pausedChanged(plan.all ? this.#assignment.length : plan.partitions.length);
    const consumer = this.#consumer;
    if (!consumer) return;
    try {
      applyPlan(consumer, this.#topics, plan);
    } catch (error) {
      // No consumer group between a crash and the restart: the restart's GROUP_JOIN applies it.
      this.#logger.debug({ err: describeError(error) }, "could not apply the pause state yet");
    }
  }

  #seek(topic: string, partition: number, offset: string): void {
    try {
      this.#consumer?.seek({ topic, partition, offset });
    } catch (error) {
      this.#logger.warn({ err: describeError(error), topic, partition, offset }, "could not move the fetch position");
    }
  }

  async #stopConsumer(): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) return;
    await this.#commits.beforeConsumerStops();
    this.#consumer = undefined;
    this.#committer.dropChannel();
    await consumer.disconnect().catch((error: unknown) => {
      this.#logger.warn({ err: describeError(error) }, "consumer disconnect failed");
    });
    const revoked = this.#checkpointer.assign([]);
    this.#seeder.begin([]);
    this.#assignment = [];
    this.#held.clear();
    this.#setJoined(false);
    this.#observer.assignmentChanged([], revoked);
    for (const listener of this.#assignmentListeners) listener([]);
  }

  /** Stops fetching at once; in-flight records keep flowing to the sink. */
  pauseForShutdown(): void {
    this.#stopping = true;
    clearInterval(this.#refreshTimer);
    this.#reconcilePauses();
  }

  /** After the sink drained: final commit, leave the group, close connections. */
  async stop(): Promise<void> {
    this.#stopping = true;
    void this.#commits.stop();
    clearInterval(this.#pauseTimer);
    clearInterval(this.#refreshTimer);
    this.#reconcilePauses();
    await this.#resubscribing?.catch(() => undefined);
    await this.#stopConsumer();
    this.#seeder.stop();
    await this.#commits.settled();
    await this.#admin?.disconnect().catch(() => undefined);
  }
}

export type { CommitRequest };
