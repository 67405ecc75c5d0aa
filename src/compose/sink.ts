/**
 * The sink half of every run, shared by `start` and the bounded runs (`replay`):
 * the Elasticsearch client, the router and decoder, the failure policy, and the bulk
 * workers draining a queue. Built in one place so that a replay writes exactly what
 * `start` would (same ids, same decoder, same bulk path, same failure policy).
 */
import type { Client } from "@elastic/elasticsearch";
import type { Kafka } from "kafkajs";
import { topicSettingsLookup } from "../config/effective.ts";
import { effectivePermanentErrorPolicy } from "../config/rules.ts";
import type { Config } from "../config/schema.ts";
import type { HoldGate } from "../sink/bulk-sender.ts";
import { createDecoder, type Decoder } from "../pipeline/decoder.ts";
import type { KafkaRecord, QueuedRecord } from "../pipeline/record.ts";
import { createRouter, type RouterOptions } from "../pipeline/router.ts";
import { startBulkWorkers, type BulkWorkers, type DecodeResult, type DocumentSource } from "../sink/bulk-workers.ts";
import type { DeadLetterWriter } from "../sink/dead-letter.ts";
import { createElasticsearchClient } from "../sink/es-client.ts";
import { createFailurePolicy, type FailurePolicy } from "../sink/failure-policy.ts";
import type { SinkLogger, SinkObserver } from "../sink/observer.ts";
import { DeadLetterProducer } from "../source/dead-letter/dead-letter-producer.ts";
import type { SchemaObserver } from "../pipeline/schemas/schema-gate.ts";
import type { SchemaLookup } from "../pipeline/schemas/schema-reader.ts";
import { composeSchemas, type SchemaParts } from "./schemas.ts";

export interface SinkParts {
  readonly es: Client;
  readonly decoder: Decoder;
  readonly workers: BulkWorkers;
  /** Name of the failure policy in force, for summaries and logs. */
  readonly failurePolicy: string;
  /** The dead-letter producer when the failure policy is "dlq": close it after the workers stopped. */
  readonly deadLetters: DeadLetterProducer | undefined;
  /** Record formats and the schema registry's gate: close it after the workers stopped. */
  readonly schemas: SchemaParts;
}

export interface SinkDeps {
  readonly queue: DocumentSource<QueuedRecord>;
  /** The Kafka client the dead-letter producer is made from (needed by the "dlq" policy). */
  readonly kafka?: Kafka;
  /** Wraps the decoder (redrive: records that are not dead letters are skipped). */
  readonly decode?: (decoder: Decoder) => (record: KafkaRecord) => DecodeResult;
  readonly observer: SinkObserver;
  /** Schema registry metrics (fetches, records waiting for a schema). */
  readonly schemaObserver?: SchemaObserver;
  readonly logger: SinkLogger;
  /** Aborts in-flight requests: unsettled records stay unacked. */
  readonly signal: AbortSignal;
  /**
   * One index template for every record of this run (replay --index): the topic map
   * and the prefix do not apply, the name is taken as given.
   */
  readonly indexOverride?: string;
  /** Partitions held for an operator error (`start`): absent, such records are retried in their slot. */
  readonly holds?: HoldGate;
}

/**
 * Topic + timestamp -> index and record -> bulk action, as configured (or overridden).
 * The decoder and the router take every per-topic choice from one lookup.
 */
export function composeDecoder(config: Config, indexOverride?: string, onFieldFallback?: RouterOptions["onFieldFallback"], schemas?: SchemaLookup): Decoder {
  const settingsFor = topicSettingsLookup(config);
  const fields = { maxFieldValues: config.index.maxFieldValues, ...(onFieldFallback === undefined ? {} : { onFieldFallback }) };
  const router = createRouter(
    indexOverride === undefined
      ? { templateFor: (topic) => settingsFor(topic).indexTemplate, prefix: config.index.prefix, timezone: config.index.timezone, ...fields }
      : { template: indexOverride, timezone: config.index.timezone, ...fields },
  );
  return createDecoder({ router, settingsFor, ...config.document, ...(schemas === undefined ? {} : { schemas }) });
}

/**
 * Every bulk request: rejected documents' sources are not echoed into errors (and so
 * into logs and dead-letter headers); in data-stream mode, a write that would create a
 * plain index instead (a template missing) is refused, held as an operator error.
 * A replay into an index of its own (--index) may target a plain index.
 */
export function bulkParameters(config: Config, indexOverride?: string): Record<string, string> {
  const requireDataStream = config.indexTemplates.dataStream && indexOverride === undefined;
  return { include_source_on_error: "false", ...(requireDataStream ? { require_data_stream: "true" } : {}) };
}

/** What happens to a record Elasticsearch rejects for good: the one place that decides it for every command. */
export function composeFailurePolicy(
  config: Config,
  observer: SinkObserver,
  logger: SinkLogger,
  deadLetters?: DeadLetterWriter,
): FailurePolicy {
  const retry = { retryInitialMs: config.bulk.retryInitialMs, retryMaxMs: config.bulk.retryMaxMs };
  return createFailurePolicy(effectivePermanentErrorPolicy(config), {
    observer,
    logger,
    ...(deadLetters === undefined ? {} : { deadLetter: { writer: deadLetters, retry } }),
  });
}

/**
 * The dead-letter topic's producer, when the failure policy writes there. The sink's
 * abort signal fails its writes in flight at once: shutdown must not wait on a send.
 */
function composeDeadLetters(config: Config, kafka: Kafka | undefined, signal: AbortSignal): DeadLetterProducer | undefined {
  if (effectivePermanentErrorPolicy(config) !== "dlq" || kafka === undefined) return undefined;
  return new DeadLetterProducer(kafka, { topic: config.deadLetter.topic, signal });
}

export function composeSink(config: Config, deps: SinkDeps): SinkParts {
  const es = createElasticsearchClient(config.elasticsearch);
  const schemas = composeSchemas(config, deps.logger, deps.schemaObserver);
  const decoder = composeDecoder(config, deps.indexOverride, (topic, reason) => {
    deps.observer.indexFieldFallback(topic, reason);
  }, schemas.gate);
  const deadLetters = composeDeadLetters(config, deps.kafka, deps.signal);
  const failurePolicy = composeFailurePolicy(config, deps.observer, deps.logger, deadLetters);
  const workers = startBulkWorkers({
    queue: deps.queue,
    decode: deps.decode?.(decoder) ?? ((record) => decoder.decode(record)),
    client: es,
    options: {
      workers: config.bulk.workers,
      adaptiveConcurrency: config.bulk.adaptiveConcurrency,
      maxDocuments: config.bulk.maxDocuments,
      maxBytes: config.bulk.maxBytes,
      lingerMs: config.bulk.lingerMs,
      retryInitialMs: config.bulk.retryInitialMs,
      retryMaxMs: config.bulk.retryMaxMs,
      failurePolicy: effectivePermanentErrorPolicy(config),
      requestTimeoutMs: config.elasticsearch.requestTimeoutMs,
      bulkParameters: bulkParameters(config, deps.indexOverride),
    },
    failurePolicy,
    observer: deps.observer,
    logger: deps.logger,
    signal: deps.signal,
    ...(schemas.gate === undefined ? {} : { gate: schemas.gate }),
    ...(deps.holds === undefined ? {} : { holds: deps.holds }),
  });
  return { es, decoder, workers, failurePolicy: failurePolicy.name, deadLetters, schemas };
}
