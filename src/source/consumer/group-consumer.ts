/**
 * Builds the kafkajs consumer the reader drives, and routes its instrumentation events
 * to named handlers, so the reader's own code reads as "what happens on a join, a
 * crash, a batch" rather than as kafkajs plumbing.
 */
import type { Consumer, Kafka } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly maxWaitTimeMs: number;
  /** One line for a crash caused by a misconfiguration (missing ACL...); default: the error's message. */
  readonly explainCrash?: (error: Error) => string | undefined;
}

/** What the reader does on each consumer event. */
export interface GroupConsumerHandlers {
  joined(memberAssignment: Record<string, number[]>): void;
  rebalancing(): void;
  crashed(error: Error, willRestart: boolean): void;
  stopped(): void;
  heartbeat(): void;
  fetchStarted(): void;
  /** A batch with no deliverable record (only transaction markers or aborted records). */
  emptyBatch(topic: string, partition: number, firstOffset: string, lastOffset: string): void;
  /** kafkajs' restartOnFailure: resolve true to let it build a new consumer group. */
  shouldRestart(error: Error): boolean;
}

export function createGroupConsumer(kafka: Kafka, o: GroupConsumerOptions, logger: Logger, handlers: GroupConsumerHandlers): Consumer {
  const consumer = kafka.consumer({
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
      // because a worker that gives up on a broker blip helps nobody. The restarted
      // consumer group knows nothing of our pauses: GROUP_JOIN re-applies them.
      restartOnFailure: (error: Error) => {
        logger.error({ err: o.explainCrash?.(error) ?? describeError(error) }, "kafka consumer crashed; restarting it");
        return Promise.resolve(handlers.shouldRestart(error));
      },
    },
  });
  wireEvents(consumer, handlers);
  return consumer;
}

function wireEvents(consumer: Consumer, handlers: GroupConsumerHandlers): void {
  const { GROUP_JOIN, REBALANCING, CRASH, STOP, HEARTBEAT, FETCH_START, START_BATCH_PROCESS } = consumer.events;
  // Listeners run synchronously inside kafkajs' emit: GROUP_JOIN's handler finishes
  // (pauses applied) before kafkajs fetches anything for the new assignment.
  consumer.on(GROUP_JOIN, (event) => {
    handlers.joined(event.payload.memberAssignment);
  });
  consumer.on(REBALANCING, () => {
    handlers.rebalancing();
  });
  consumer.on(CRASH, (event) => {
    handlers.crashed(event.payload.error, event.payload.restart);
  });
  consumer.on(STOP, () => {
    handlers.stopped();
  });
  consumer.on(HEARTBEAT, () => {
    handlers.heartbeat();
  });
  consumer.on(FETCH_START, () => {
    handlers.fetchStarted();
  });
  // Batches made only of transaction markers or aborted records never reach eachBatch;
  // the reader tracks them as empty segments so the committed offset can pass them.
  consumer.on(START_BATCH_PROCESS, (event) => {
    const p = event.payload;
    // kafkajs types firstOffset as a string, but it is null for a truly empty batch.
    const first = p.firstOffset as string | null;
    if (p.batchSize === 0 && first !== null) handlers.emptyBatch(p.topic, p.partition, first, p.lastOffset);
  });
}
