/** The Kafka reader's settings as configured, shared by `start` and `redrive`. */
import type { Config } from "../config/schema.ts";
import type { FetchSizes } from "../shared/memory-model.ts";
import type { ReaderOptions } from "../source/consumer/kafka-reader.ts";

/** Anchored, so `logs-.*` does not also take `old-logs-x`: the same rule as Kafka's Java clients. */
export function topicPattern(source: string): RegExp | undefined {
  return source === "" ? undefined : new RegExp(`^(?:${source})$`);
}

/**
 * The reader's settings for `groupId`, on the configured topics unless `selection` says
 * otherwise, fetching at most `fetch` per broker (the memory plan's, compose/memory.ts).
 */
export function readerOptions(config: Config, groupId: string, fetch: FetchSizes, selection?: ReaderOptions["selection"]): ReaderOptions {
  return {
    groupId,
    selection: selection ?? { topics: config.kafka.topics, pattern: topicPattern(config.kafka.topicPattern) },
    fromBeginning: config.kafka.fromBeginning,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
    rebalanceTimeoutMs: config.kafka.rebalanceTimeoutMs,
    partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently,
    maxBytes: fetch.maxBytes,
    maxBytesPerPartition: fetch.maxBytesPerPartition,
    maxWaitTimeMs: config.kafka.maxWaitTimeMs,
    commitIntervalMs: config.kafka.commitIntervalMs,
    topicRefreshIntervalMs: config.kafka.topicRefreshIntervalMs,
    drainTimeoutMs: config.shutdown.drainTimeoutMs,
  };
}
